"""The Kubernetes emulator's server-side apply and field ownership: what a user of `kubectl apply
--server-side` (or an installer using apply) relies on: the merge, removal of fields a manager
stops sending, the real 409 conflict text, --force-conflicts, and managedFields in FieldsV1."""

import unittest

from ferrytest.kube import ssa
from ferrytest.kube.errors import ApiError


def configmap(data, labels=None):
    meta = {"name": "demo", "namespace": "default"}
    if labels is not None:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def deployment(containers, replicas=None):
    spec = {"selector": {"matchLabels": {"app": "d"}},
            "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": containers}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "default"},
            "spec": spec}


def entry(obj, manager):
    found = [e for e in obj["metadata"]["managedFields"] if e["manager"] == manager]
    return found[0] if found else None


class TestApply(unittest.TestCase):
    def test_create_records_the_applied_fields(self):
        obj = ssa.server_side_apply(None, configmap({"key": "v"}, labels={"app": "x"}), "ferry", False,
                                    "2024-01-01T00:00:00Z")
        self.assertEqual(obj["data"], {"key": "v"})
        self.assertEqual(obj["metadata"]["managedFields"], [{
            "apiVersion": "v1", "fieldsType": "FieldsV1", "manager": "ferry", "operation": "Apply",
            "time": "2024-01-01T00:00:00Z",
            "fieldsV1": {"f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:app": {}}}}}])

    def test_list_items_are_keyed_in_fields_v1(self):
        obj = ssa.server_side_apply(None, deployment([{"name": "app", "image": "i",
                                                       "ports": [{"containerPort": 80}]}]), "kubectl", False, "t")
        fields = entry(obj, "kubectl")["fieldsV1"]["f:spec"]
        self.assertEqual(fields["f:selector"], {})  # a label selector is atomic
        item = fields["f:template"]["f:spec"]["f:containers"]['k:{"name":"app"}']
        self.assertEqual(set(item), {".", "f:image", "f:name", "f:ports"})
        self.assertIn('k:{"containerPort":80,"protocol":"TCP"}', item["f:ports"])

    def test_reapply_merges_into_fields_set_by_others(self):
        live = ssa.record_update(None, configmap({"other": "o"}), "kubectl-client-side-apply", "Create", "t")
        obj = ssa.server_side_apply(live, configmap({"key": "v"}), "ferry", False, "t")
        self.assertEqual(obj["data"], {"other": "o", "key": "v"})

    def test_fields_a_manager_stops_sending_are_removed(self):
        obj = ssa.server_side_apply(None, configmap({"a": "1", "b": "2"}, labels={"x": "1"}), "ferry", False, "t")
        obj = ssa.server_side_apply(obj, configmap({"a": "1"}), "ferry", False, "t")
        self.assertEqual(obj["data"], {"a": "1"})
        self.assertNotIn("labels", obj["metadata"])
        self.assertEqual(entry(obj, "ferry")["fieldsV1"], {"f:data": {"f:a": {}}})

    def test_removed_container_goes_but_one_another_manager_owns_stays(self):
        two = [{"name": "app", "image": "a"}, {"name": "side", "image": "s"}]
        obj = ssa.server_side_apply(None, deployment(two), "ferry", False, "t")
        obj = ssa.server_side_apply(obj, deployment([{"name": "app", "image": "a"}]), "ferry", False, "t")
        self.assertEqual([c["name"] for c in obj["spec"]["template"]["spec"]["containers"]], ["app"])
        # a field shared with a second applier survives the first one dropping it
        obj = ssa.server_side_apply(obj, deployment([{"name": "app", "image": "a"}], replicas=2), "ferry", False, "t")
        obj = ssa.server_side_apply(obj, {"apiVersion": "apps/v1", "kind": "Deployment",
                                          "metadata": {"name": "d"}, "spec": {"replicas": 2}}, "hpa", False, "t")
        obj = ssa.server_side_apply(obj, deployment([{"name": "app", "image": "a"}]), "ferry", False, "t")
        self.assertEqual(obj["spec"]["replicas"], 2)

    def test_same_value_is_shared_without_conflict(self):
        live = ssa.record_update(None, configmap({"key": "v"}), "kubectl-client-side-apply", "Create", "t")
        obj = ssa.server_side_apply(live, configmap({"key": "v"}), "ferry", False, "t")
        self.assertIn("f:key", entry(obj, "ferry")["fieldsV1"]["f:data"])
        self.assertIn("f:key", entry(obj, "kubectl-client-side-apply")["fieldsV1"]["f:data"])

    def test_conflict_with_an_update_manager_has_the_real_text(self):
        live = ssa.record_update(None, configmap({"key": "v"}), "kubectl-client-side-apply", "Create", "t")
        with self.assertRaises(ApiError) as caught:
            ssa.server_side_apply(live, configmap({"key": "changed"}), "ferry", False, "t")
        err = caught.exception
        self.assertEqual((err.code, err.reason), (409, "Conflict"))
        self.assertEqual(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" '
                                      'using v1: .data.key')
        self.assertEqual(err.details["causes"], [{"reason": "FieldManagerConflict", "field": ".data.key",
                                                  "message": 'conflict with "kubectl-client-side-apply" using v1'}])

    def test_plural_conflicts_with_an_apply_manager(self):
        live = ssa.server_side_apply(None, configmap({"a": "1", "b": "2"}), "kubectl", False, "t")
        with self.assertRaises(ApiError) as caught:
            ssa.server_side_apply(live, configmap({"a": "x", "b": "y"}), "ferry", False, "t")
        self.assertEqual(caught.exception.message, 'Apply failed with 2 conflicts: conflicts with "kubectl":\n'
                                                   '- .data.a\n- .data.b')

    def test_force_takes_the_field_over(self):
        live = ssa.server_side_apply(None, configmap({"a": "1", "b": "2"}), "kubectl", False, "t")
        obj = ssa.server_side_apply(live, configmap({"a": "x"}), "ferry", True, "t")
        self.assertEqual(obj["data"], {"a": "x", "b": "2"})
        self.assertEqual(entry(obj, "kubectl")["fieldsV1"], {"f:data": {"f:b": {}}})
        self.assertEqual(entry(obj, "ferry")["fieldsV1"], {"f:data": {"f:a": {}}})
        # kubectl now re-applies without "a": it no longer owns it, so "a" stays
        obj = ssa.server_side_apply(obj, configmap({"b": "2"}), "kubectl", False, "t")
        self.assertEqual(obj["data"], {"a": "x", "b": "2"})

    def test_conflict_path_names_the_list_item(self):
        live = ssa.server_side_apply(None, deployment([{"name": "app", "image": "a"}]), "kubectl", False, "t")
        with self.assertRaises(ApiError) as caught:
            ssa.server_side_apply(live, deployment([{"name": "app", "image": "b"}]), "ferry", False, "t")
        self.assertIn('.spec.template.spec.containers[name="app"].image', caught.exception.message)

    def test_status_is_ignored(self):
        applied = configmap({"a": "1"})
        applied["status"] = {"phase": "x"}
        obj = ssa.server_side_apply(None, applied, "ferry", False, "t")
        self.assertNotIn("status", obj)

    def test_object_without_managed_fields_belongs_to_before_first_apply(self):
        live = configmap({"a": "1"})
        with self.assertRaises(ApiError) as caught:
            ssa.server_side_apply(live, configmap({"a": "2"}), "ferry", False, "t")
        self.assertIn('conflict with "before-first-apply" using v1: .data.a', caught.exception.message)


class TestRecordUpdate(unittest.TestCase):
    def test_update_takes_changed_fields_from_the_applier(self):
        live = ssa.server_side_apply(None, configmap({"a": "1", "b": "2"}), "kubectl", False, "t0")
        new = dict(live, data={"a": "edited", "b": "2"})
        obj = ssa.record_update(live, new, "kubectl-edit", "Update", "t1")
        self.assertEqual(entry(obj, "kubectl")["fieldsV1"], {"f:data": {"f:b": {}}})
        self.assertEqual(entry(obj, "kubectl-edit")["fieldsV1"], {"f:data": {"f:a": {}}})
        self.assertEqual(entry(obj, "kubectl-edit")["time"], "t1")
        self.assertEqual(entry(obj, "kubectl")["time"], "t0")

    def test_managed_fields_sent_by_the_writer_are_kept(self):
        """kubectl moves client-side-apply ownership to its apply manager by writing managedFields."""
        live = ssa.record_update(None, configmap({"a": "1"}), "kubectl-client-side-apply", "Create", "t")
        new = dict(live, metadata=dict(live["metadata"], managedFields=[{
            "manager": "kubectl", "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {"f:a": {}}}}]))
        obj = ssa.record_update(live, new, "kubectl", "Update", "t")
        self.assertEqual([(e["manager"], e["operation"]) for e in obj["metadata"]["managedFields"]],
                         [("kubectl", "Apply")])
        obj = ssa.server_side_apply(obj, configmap({"a": "2"}), "kubectl", False, "t")
        self.assertEqual(obj["data"], {"a": "2"})

    def test_reapply_after_kubectl_moved_client_side_ownership_keeps_the_data(self):
        """After the move the applier owns the data map itself (the client-side manager created it)."""
        live = ssa.record_update(None, configmap({"key": "v1"}), "kubectl-client-side-apply", "Create", "t")
        moved = dict(live, metadata=dict(live["metadata"], managedFields=[{
            "manager": "ferry", "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {".": {}, "f:key": {}}}}]))
        obj = ssa.server_side_apply(ssa.record_update(live, moved, "ferry", "Update", "t"),
                                    configmap({"key": "v1"}), "ferry", False, "t")
        self.assertEqual(obj["data"], {"key": "v1"})

    def test_an_update_that_changes_nothing_adds_no_manager(self):
        live = ssa.record_update(None, configmap({"a": "1"}), "creator", "Create", "t")
        obj = ssa.record_update(live, live, "other", "Update", "t")
        self.assertEqual([e["manager"] for e in obj["metadata"]["managedFields"]], ["creator"])


if __name__ == "__main__":
    unittest.main()
