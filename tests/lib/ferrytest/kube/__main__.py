"""`python3 -m ferrytest.kube serve --dir DIR [...]`: runs the emulator in the foreground until
SIGTERM/SIGINT. DIR/state.json is written last, so a reader that sees it can connect."""

import argparse
import json
import logging
import signal
import sys
import threading

from .server import Emulator


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m ferrytest.kube")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the emulator until SIGTERM/SIGINT")
    serve.add_argument("--dir", required=True, help="where pki/, kubeconfig and state.json go")
    serve.add_argument("--crd-established-delay", type=float, default=0.0)
    serve.add_argument("--workload-ready-delay", type=float, default=0.0)
    serve.add_argument("--namespace-finalize-delay", type=float, default=0.0)
    serve.add_argument("--image-registry", default=None, help="HOST:PORT images are checked against")
    serve.add_argument("--controllers", action="store_true", help="load controllers and admission")
    serve.add_argument("--workload-delay", action="append", default=[], metavar="NAME=SECONDS",
                       help="readiness delay for the workloads named NAME (repeatable)")
    serve.add_argument("--dataplane-app", action="append", default=[], metavar="IMAGE_SUBSTRING=PATH",
                       help="run Knative revision pods whose image contains IMAGE_SUBSTRING as PATH "
                            "(repeatable; enables the data plane, its gateway goes in state.json)")
    serve.add_argument("--no-load-balancer", dest="load_balancer", action="store_false",
                       help="no load-balancer controller: LoadBalancer Services get nodePorts but no address")
    serve.add_argument("--kpa-stable-window", type=float, default=6.0)
    serve.add_argument("--scale-to-zero-grace", type=float, default=3.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    delays = {}
    for item in args.workload_delay:
        name, _, seconds = item.partition("=")
        delays[name] = float(seconds)
    apps = dict(item.split("=", 1) for item in args.dataplane_app if "=" in item)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    emulator = Emulator(args.dir, controllers=args.controllers,
                        crd_established_delay=args.crd_established_delay,
                        workload_ready_delay=args.workload_ready_delay,
                        namespace_finalize_delay=args.namespace_finalize_delay,
                        image_registry=args.image_registry, workload_delays=delays,
                        dataplane=bool(apps), dataplane_apps=apps, kpa_stable_window=args.kpa_stable_window,
                        scale_to_zero_grace=args.scale_to_zero_grace, load_balancer=args.load_balancer)
    with emulator:
        print(json.dumps({"server": emulator.url, "state": emulator.state_file, "gateway": emulator.gateway}),
              flush=True)
        while not done.wait(1.0):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
