"""The Kubernetes emulator's patch formats: JSON merge patch (RFC 7386), strategic merge patch as
kubectl's client-side apply sends it (merge keys and directives), and JSON patch (RFC 6902, as
kubectl sends it to move managedFields to server-side apply)."""

import unittest

from ferrytest.kube.errors import ApiError
from ferrytest.kube.patch import json_merge_patch, json_patch, strategic_merge_patch


def deployment(*containers, volumes=None):
    spec = {"containers": list(containers)}
    if volumes is not None:
        spec["volumes"] = volumes
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "labels": {"a": "1"}},
            "spec": {"replicas": 1, "template": {"spec": spec}}}


def containers(obj):
    return obj["spec"]["template"]["spec"]["containers"]


class TestJsonMergePatch(unittest.TestCase):
    def test_rfc7386_examples(self):
        target = {"a": "b", "c": {"d": "e", "f": "g"}}
        self.assertEqual(json_merge_patch(target, {"a": "z", "c": {"f": None}}), {"a": "z", "c": {"d": "e"}})
        self.assertEqual(json_merge_patch({"a": ["b"]}, {"a": "c"}), {"a": "c"})
        self.assertEqual(json_merge_patch({"a": [{"b": "c"}]}, {"a": [1]}), {"a": [1]})
        self.assertEqual(json_merge_patch({"e": None}, {"a": 1}), {"e": None, "a": 1})
        self.assertEqual(json_merge_patch({}, {"a": {"bb": {"ccc": None}}}), {"a": {"bb": {}}})

    def test_lists_are_replaced_and_target_is_not_changed(self):
        target = deployment({"name": "a", "image": "x"}, {"name": "b", "image": "y"})
        out = json_merge_patch(target, {"spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}})
        self.assertEqual(containers(out), [{"name": "a"}])
        self.assertEqual(len(containers(target)), 2)


class TestStrategicMergePatch(unittest.TestCase):
    def test_containers_merge_by_name(self):
        target = deployment({"name": "app", "image": "old", "args": ["-v"]}, {"name": "side", "image": "s"})
        out = strategic_merge_patch(target, {"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "new"}, {"name": "extra", "image": "e"}]}}}})
        self.assertEqual(containers(out), [{"name": "app", "image": "new", "args": ["-v"]},
                                           {"name": "side", "image": "s"}, {"name": "extra", "image": "e"}])

    def test_env_merges_by_name_and_container_ports_by_container_port(self):
        target = deployment({"name": "app", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                             "ports": [{"containerPort": 80, "name": "http"}]})
        out = strategic_merge_patch(target, {"spec": {"template": {"spec": {"containers": [
            {"name": "app", "env": [{"name": "B", "value": "3"}],
             "ports": [{"containerPort": 80, "name": "web"}, {"containerPort": 9090}]}]}}}})
        app = containers(out)[0]
        self.assertEqual(app["env"], [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}])
        self.assertEqual(app["ports"], [{"containerPort": 80, "name": "web"}, {"containerPort": 9090}])

    def test_null_deletes_a_key_and_lists_without_merge_key_are_replaced(self):
        target = deployment({"name": "app", "image": "x", "args": ["a", "b"], "command": ["run"]})
        out = strategic_merge_patch(target, {"metadata": {"labels": {"a": None}}, "spec": {"template": {"spec": {
            "containers": [{"name": "app", "args": ["c"], "command": None}]}}}})
        self.assertEqual(out["metadata"]["labels"], {})
        self.assertEqual(containers(out), [{"name": "app", "image": "x", "args": ["c"]}])

    def test_patch_delete_directive_removes_a_list_item(self):
        target = deployment({"name": "app"}, {"name": "gone"})
        out = strategic_merge_patch(target, {"spec": {"template": {"spec": {"containers": [
            {"$patch": "delete", "name": "gone"}]}}}})
        self.assertEqual(containers(out), [{"name": "app"}])

    def test_patch_replace_directive_on_a_list_and_on_a_map(self):
        target = deployment({"name": "a", "image": "x"}, {"name": "b"})
        out = strategic_merge_patch(target, {"metadata": {"labels": {"$patch": "replace", "z": "9"}},
                                             "spec": {"template": {"spec": {"containers": [
                                                 {"$patch": "replace"}, {"name": "c", "image": "y"}]}}}})
        self.assertEqual(out["metadata"]["labels"], {"z": "9"})
        self.assertEqual(containers(out), [{"name": "c", "image": "y"}])

    def test_set_element_order_reorders_merged_items(self):
        target = deployment({"name": "a"}, {"name": "b"})
        out = strategic_merge_patch(target, {"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "c"}, {"name": "b"}, {"name": "a"}],
            "containers": [{"name": "c"}]}}}})
        self.assertEqual([c["name"] for c in containers(out)], ["c", "b", "a"])
        self.assertNotIn("$setElementOrder/containers", out["spec"]["template"]["spec"])

    def test_retain_keys_clears_the_other_fields_of_a_volume(self):
        target = deployment({"name": "a"}, volumes=[{"name": "v", "emptyDir": {}}])
        out = strategic_merge_patch(target, {"spec": {"template": {"spec": {"volumes": [
            {"name": "v", "$retainKeys": ["configMap", "name"], "configMap": {"name": "cm"}}]}}}})
        self.assertEqual(out["spec"]["template"]["spec"]["volumes"], [{"name": "v", "configMap": {"name": "cm"}}])

    def test_finalizers_merge_as_a_set_and_delete_from_primitive_list(self):
        target = {"metadata": {"name": "x", "finalizers": ["a", "b"]}}
        self.assertEqual(strategic_merge_patch(target, {"metadata": {"finalizers": ["b", "c"]}})
                         ["metadata"]["finalizers"], ["a", "b", "c"])
        out = strategic_merge_patch(target, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}})
        self.assertEqual(out["metadata"]["finalizers"], ["b"])

    def test_service_ports_merge_by_port(self):
        svc = {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}
        out = strategic_merge_patch(svc, {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}})
        self.assertEqual(out["spec"]["ports"], [{"port": 80, "targetPort": 9090}, {"port": 443}])

    def test_kubectl_three_way_patch_after_editing_a_manifest(self):
        """What kubectl apply sends after the user changed the image and dropped a label."""
        live = deployment({"name": "app", "image": "v1", "imagePullPolicy": "IfNotPresent"})
        live["metadata"]["labels"]["b"] = "2"
        patch = {"metadata": {"labels": {"b": None}},
                 "spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "app"}],
                                                "containers": [{"name": "app", "image": "v2"}]}}}}
        out = strategic_merge_patch(live, patch)
        self.assertEqual(out["metadata"]["labels"], {"a": "1"})
        self.assertEqual(containers(out), [{"name": "app", "image": "v2", "imagePullPolicy": "IfNotPresent"}])

    def test_list_item_without_its_merge_key_is_a_bad_request(self):
        with self.assertRaises(ApiError) as caught:
            strategic_merge_patch(deployment({"name": "a"}), {"spec": {"template": {"spec": {
                "containers": [{"image": "x"}]}}}})
        self.assertEqual(caught.exception.code, 400)
        self.assertIn("does not contain declared merge key: name", caught.exception.message)


class TestJsonPatch(unittest.TestCase):
    def test_operations(self):
        doc = {"metadata": {"name": "x", "labels": {"a/b": "1"}}, "list": [1, 2]}
        out = json_patch(doc, [
            {"op": "add", "path": "/list/-", "value": 3},
            {"op": "add", "path": "/list/0", "value": 0},
            {"op": "replace", "path": "/metadata/labels/a~1b", "value": "2"},
            {"op": "copy", "from": "/metadata/name", "path": "/copied"},
            {"op": "move", "from": "/copied", "path": "/moved"},
            {"op": "remove", "path": "/list/1"},
            {"op": "test", "path": "/moved", "value": "x"}])
        self.assertEqual(out, {"metadata": {"name": "x", "labels": {"a/b": "2"}}, "list": [0, 2, 3], "moved": "x"})
        self.assertEqual(doc["list"], [1, 2])

    def test_failed_test_operation_is_unprocessable(self):
        doc = {"metadata": {"resourceVersion": "5"}}
        with self.assertRaises(ApiError) as caught:
            json_patch(doc, [{"op": "test", "path": "/metadata/resourceVersion", "value": "4"},
                             {"op": "replace", "path": "/metadata/managedFields", "value": []}])
        self.assertEqual(caught.exception.code, 422)
        self.assertIn("/metadata/resourceVersion", str(caught.exception.details))

    def test_missing_path_is_refused(self):
        with self.assertRaises(ApiError):
            json_patch({"a": {}}, [{"op": "replace", "path": "/a/b", "value": 1}])
        with self.assertRaises(ApiError):
            json_patch({"a": {}}, [{"op": "add", "path": "/x/y", "value": 1}])


if __name__ == "__main__":
    unittest.main()
