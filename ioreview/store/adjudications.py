"""The repositories of adjudication: each case's workflow stage, adjudication tasks with their
decisions, and committee (consensus panel) sessions with members, cases, signed ballots and
results.  Portable SQL returning typed records, as in `repositories`."""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .records import (AdjudicationRecord, AnnotationRecord, ExportRecord, DecisionRecord, PanelCaseRecord, PanelResultRecord,
                      PanelSessionRecord, PanelVoteRecord, WorkflowRecord)
from .repositories import _Repository, _placeholders

__all__ = ["AdjudicationRepository", "ExportRepository", "PanelRepository", "WorkflowRepository"]


def _annotation_json(a: AnnotationRecord) -> dict[str, Any]:
    return {"finding_id": a.finding_id, "kind": a.kind, "sop_instance_uid": a.sop_instance_uid,
            "frame": a.frame, "points": [list(p) for p in a.points],
            "measurements": a.measurements, "label": a.label}


def _letters(text: str) -> dict[str, tuple[int, int]]:
    return {k: (int(v[0]), int(v[1])) for k, v in json.loads(text).items()}


def _letters_json(letters: Mapping[str, tuple[int, int]]) -> str:
    return json.dumps({k: [int(v[0]), int(v[1])] for k, v in sorted(letters.items())})


# -- workflow ---------------------------------------------------------------------------------
def _workflow(r: Mapping[str, Any]) -> WorkflowRecord:
    return WorkflowRecord(int(r["case_id"]), r["label"], r["paradigm"], r["stage"],
                          None if r["evaluation_id"] is None else int(r["evaluation_id"]),
                          bool(r["reopened"]), r["updated_at"])


_WORKFLOW_SELECT = ("SELECT w.*, c.label FROM case_workflow w"
                    " JOIN review_case c ON c.id = w.case_id")


class WorkflowRepository(_Repository):
    def get(self, case_id: int) -> WorkflowRecord | None:
        r = self.uow.row(_WORKFLOW_SELECT + " WHERE w.case_id = ?", (int(case_id),))
        return None if r is None else _workflow(r)

    def set(self, case_id: int, paradigm: str, stage: str, evaluation_id: int | None,
            at: str, reopened: bool | None = None) -> None:
        """Insert or update the case's stage."""
        current = self.uow.row("SELECT reopened FROM case_workflow WHERE case_id = ?",
                               (case_id,))
        if current is None:
            self.uow.execute(
                "INSERT INTO case_workflow (case_id, paradigm, stage, evaluation_id, reopened,"
                " updated_at) VALUES (?,?,?,?,?,?)",
                (case_id, paradigm, stage, evaluation_id, int(bool(reopened)), at))
        else:
            flag = int(current["reopened"]) if reopened is None else int(reopened)
            self.uow.execute(
                "UPDATE case_workflow SET paradigm = ?, stage = ?, evaluation_id = ?,"
                " reopened = ?, updated_at = ? WHERE case_id = ?",
                (paradigm, stage, evaluation_id, flag, at, case_id))

    def list(self, stage: str | None = None) -> list[WorkflowRecord]:
        if stage is None:
            return [_workflow(r) for r in self.uow.rows(_WORKFLOW_SELECT + " ORDER BY c.label")]
        return [_workflow(r) for r in self.uow.rows(
            _WORKFLOW_SELECT + " WHERE w.stage = ? ORDER BY w.updated_at, c.label", (stage,))]

    def cases_without_stage(self) -> list[int]:
        """Evaluated cases with no workflow stage yet (databases from before adjudication)."""
        return [int(c) for (c,) in self.uow.tuples(
            "SELECT e.case_id FROM discordance_evaluation e WHERE e.superseded_at IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM case_workflow w WHERE w.case_id = e.case_id)"
            " ORDER BY e.case_id")]

    def stage_counts(self) -> dict[str, int]:
        return {s: int(n) for s, n in self.uow.tuples(
            "SELECT stage, COUNT(*) FROM case_workflow GROUP BY stage")}


# -- adjudications ----------------------------------------------------------------------------
_ADJ_SELECT = ("SELECT j.*, c.label, u.username AS adjudicator FROM adjudication j"
               " JOIN review_case c ON c.id = j.case_id JOIN app_user u ON u.id = j.adjudicator_id")


class AdjudicationRepository(_Repository):
    def add(self, case_id: int, evaluation_id: int, adjudicator_id: int, seed: int,
            letters: Mapping[str, tuple[int, int]], items: Sequence[str], at: str) -> int:
        return self.uow.insert(
            "INSERT INTO adjudication (case_id, evaluation_id, adjudicator_id, status, seed,"
            " letters_json, items_json, created_at) VALUES (?,?,?,?,?,?,?,?)",
            (case_id, evaluation_id, adjudicator_id, "pending", seed, _letters_json(letters),
             json.dumps(list(items)), at))

    def _records(self, where: str, params: Sequence[Any], order: str = "j.id"
                 ) -> list[AdjudicationRecord]:
        rows = self.uow.rows(_ADJ_SELECT + f" WHERE {where} ORDER BY {order}", params)
        if not rows:
            return []
        ids = [int(r["id"]) for r in rows]
        decisions: dict[int, list[DecisionRecord]] = {i: [] for i in ids}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            for aid, f, choice, value, rationale in self.uow.tuples(
                    "SELECT adjudication_id, field, choice, value_json, rationale FROM"
                    f" adjudication_decision WHERE adjudication_id IN ({_placeholders(chunk)})"
                    " ORDER BY adjudication_id, field", chunk):
                decisions[int(aid)].append(DecisionRecord(f, choice, json.loads(value),
                                                          rationale))
        return [AdjudicationRecord(
            int(r["id"]), int(r["case_id"]), r["label"], int(r["evaluation_id"]),
            int(r["adjudicator_id"]), r["adjudicator"], r["status"], int(r["seed"]),
            _letters(r["letters_json"]), tuple(json.loads(r["items_json"])), r["created_at"],
            r["decided_at"], r["superseded_at"], tuple(decisions[int(r["id"])])) for r in rows]

    def get(self, adjudication_id: int) -> AdjudicationRecord | None:
        found = self._records("j.id = ?", (int(adjudication_id),))
        return found[0] if found else None

    def of_case(self, case_id: int) -> list[AdjudicationRecord]:
        return self._records("j.case_id = ?", (int(case_id),))

    def current(self, case_id: int) -> AdjudicationRecord | None:
        """The case's standing (pending or decided) adjudication."""
        found = self._records("j.case_id = ? AND j.status <> 'superseded'", (int(case_id),),
                              "j.id DESC")
        return found[0] if found else None

    def pending_for(self, adjudicator_id: int) -> list[AdjudicationRecord]:
        """An adjudicator's pending tasks, oldest first."""
        return self._records("j.adjudicator_id = ? AND j.status = 'pending'",
                             (int(adjudicator_id),), "j.created_at, j.id")

    def all(self, status: str | None = None) -> list[AdjudicationRecord]:
        if status is None:
            return self._records("1 = 1", ())
        return self._records("j.status = ?", (status,))

    def decide(self, adjudication_id: int, decisions: Sequence[DecisionRecord],
               annotations: Sequence[AnnotationRecord], at: str) -> None:
        self.uow.executemany(
            "INSERT INTO adjudication_decision (adjudication_id, field, choice, value_json,"
            " rationale) VALUES (?,?,?,?,?)",
            [(adjudication_id, d.field, d.choice, json.dumps(d.value, ensure_ascii=False),
              d.rationale) for d in decisions])
        self.uow.execute("UPDATE adjudication SET status = 'decided', decided_at = ?,"
                         " annotations_json = ? WHERE id = ?",
                         (at, json.dumps([_annotation_json(a) for a in annotations],
                                         ensure_ascii=False), adjudication_id))

    def annotations(self, adjudication_id: int) -> list[AnnotationRecord]:
        """The adjudicator's own measurements and annotations."""
        text = self.uow.scalar("SELECT annotations_json FROM adjudication WHERE id = ?",
                               (int(adjudication_id),))
        return [AnnotationRecord(i + 1, a["finding_id"], a["kind"], a["sop_instance_uid"],
                                 int(a["frame"]), tuple((float(p[0]), float(p[1]))
                                                        for p in a["points"]),
                                 dict(a["measurements"]), a["label"])
                for i, a in enumerate(json.loads(text or "[]"))]

    def reassign(self, adjudication_id: int, adjudicator_id: int) -> None:
        self.uow.execute("UPDATE adjudication SET adjudicator_id = ? WHERE id = ?"
                         " AND status = 'pending'", (adjudicator_id, adjudication_id))

    def supersede_case(self, case_id: int, at: str) -> list[int]:
        """Mark the case's standing adjudications superseded (kept); returns their ids."""
        ids = [int(i) for (i,) in self.uow.tuples(
            "SELECT id FROM adjudication WHERE case_id = ? AND status <> 'superseded'",
            (case_id,))]
        if ids:
            self.uow.execute("UPDATE adjudication SET status = 'superseded', superseded_at = ?"
                             f" WHERE id IN ({_placeholders(ids)})", (at, *ids))
        return ids

    def workload(self) -> dict[int, dict[str, int]]:
        """Per adjudicator: tasks by status."""
        out: dict[int, dict[str, int]] = {}
        for uid, status, n in self.uow.tuples(
                "SELECT adjudicator_id, status, COUNT(*) FROM adjudication"
                " GROUP BY adjudicator_id, status"):
            out.setdefault(int(uid), {})[status] = int(n)
        return out


# -- committee sessions -----------------------------------------------------------------------
class PanelRepository(_Repository):
    def add_session(self, title: str, chair_id: int, rule: str, quorum: int, hidden: bool,
                    protocol_version_id: int, by: str, at: str) -> int:
        return self.uow.insert(
            "INSERT INTO panel_session (title, chair_id, status, rule, quorum, hidden_votes,"
            " protocol_version_id, created_by, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (title, chair_id, "open", rule, quorum, int(hidden), protocol_version_id, by, at))

    def add_member(self, session_id: int, user_id: int) -> None:
        self.uow.execute("INSERT INTO panel_member (session_id, user_id) VALUES (?,?)",
                         (session_id, user_id))

    def set_present(self, session_id: int, user_id: int, present: bool) -> None:
        self.uow.execute("UPDATE panel_member SET present = ? WHERE session_id = ?"
                         " AND user_id = ?", (int(present), session_id, user_id))

    def add_case(self, session_id: int, case_id: int, evaluation_id: int | None, seed: int,
                 letters: Mapping[str, tuple[int, int]], items: Sequence[str]) -> None:
        self.uow.execute(
            "INSERT INTO panel_case (session_id, case_id, evaluation_id, seed, letters_json,"
            " items_json, status) VALUES (?,?,?,?,?,?,?)",
            (session_id, case_id, evaluation_id, seed, _letters_json(letters),
             json.dumps(list(items)), "open"))

    def _sessions(self, where: str, params: Sequence[Any]) -> list[PanelSessionRecord]:
        rows = self.uow.rows(
            "SELECT s.*, u.username AS chair FROM panel_session s JOIN app_user u"
            f" ON u.id = s.chair_id WHERE {where} ORDER BY s.id", params)
        if not rows:
            return []
        ids = [int(r["id"]) for r in rows]
        members: dict[int, list[tuple[int, str, bool]]] = {i: [] for i in ids}
        for sid, uid, name, present in self.uow.tuples(
                "SELECT m.session_id, m.user_id, u.username, m.present FROM panel_member m"
                f" JOIN app_user u ON u.id = m.user_id WHERE m.session_id IN"
                f" ({_placeholders(ids)}) ORDER BY u.username", ids):
            members[int(sid)].append((int(uid), name, bool(present)))
        return [PanelSessionRecord(
            int(r["id"]), r["title"], int(r["chair_id"]), r["chair"], r["status"], r["rule"],
            int(r["quorum"]), bool(r["hidden_votes"]), int(r["protocol_version_id"]),
            r["created_by"], r["created_at"], r["closed_at"], r["minutes"],
            tuple(members[int(r["id"])])) for r in rows]

    def session(self, session_id: int) -> PanelSessionRecord | None:
        found = self._sessions("s.id = ?", (int(session_id),))
        return found[0] if found else None

    def sessions(self, member_id: int | None = None) -> list[PanelSessionRecord]:
        if member_id is None:
            return self._sessions("1 = 1", ())
        return self._sessions("s.id IN (SELECT session_id FROM panel_member WHERE user_id = ?)",
                              (int(member_id),))

    def cases(self, session_id: int) -> list[PanelCaseRecord]:
        return [PanelCaseRecord(int(r["session_id"]), int(r["case_id"]), r["label"],
                                None if r["evaluation_id"] is None else int(r["evaluation_id"]),
                                int(r["seed"]), _letters(r["letters_json"]),
                                tuple(json.loads(r["items_json"])), r["status"],
                                r["superseded_at"]) for r in self.uow.rows(
            "SELECT p.*, c.label FROM panel_case p JOIN review_case c ON c.id = p.case_id"
            " WHERE p.session_id = ? ORDER BY c.label", (int(session_id),))]

    def sessions_of_case(self, case_id: int) -> list[int]:
        """Every session the case was put before (any status)."""
        return [int(s) for (s,) in self.uow.tuples(
            "SELECT session_id FROM panel_case WHERE case_id = ? ORDER BY session_id",
            (int(case_id),))]

    def open_case_sessions(self, case_id: int) -> list[int]:
        """Sessions in which the case is still open (not decided, not superseded)."""
        return [int(s) for (s,) in self.uow.tuples(
            "SELECT session_id FROM panel_case WHERE case_id = ? AND status = 'open'",
            (case_id,))]

    def supersede_case(self, case_id: int, at: str) -> list[int]:
        """Take the case out of open sessions and mark its decided panel results superseded;
        returns the sessions touched."""
        ids = [int(s) for (s,) in self.uow.tuples(
            "SELECT session_id FROM panel_case WHERE case_id = ? AND status <> 'superseded'",
            (case_id,))]
        if ids:
            self.uow.execute("UPDATE panel_case SET status = 'superseded', superseded_at = ?"
                             " WHERE case_id = ? AND status <> 'superseded'", (at, case_id))
        return ids

    def add_ballot(self, session_id: int, case_id: int, member_id: int, casting: bool,
                   votes: Mapping[str, Any], at: str) -> int:
        ballot_id = self.uow.insert(
            "INSERT INTO panel_ballot (session_id, case_id, member_id, casting, cast_at)"
            " VALUES (?,?,?,?,?)", (session_id, case_id, member_id, int(casting), at))
        self.uow.executemany(
            "INSERT INTO panel_vote (ballot_id, session_id, case_id, field, member_id, casting,"
            " value_json) VALUES (?,?,?,?,?,?,?)",
            [(ballot_id, session_id, case_id, f, member_id, int(casting),
              json.dumps(v, ensure_ascii=False)) for f, v in sorted(votes.items())])
        return ballot_id

    def votes(self, session_id: int, case_id: int | None = None) -> list[PanelVoteRecord]:
        sql = ("SELECT v.*, u.username, b.cast_at FROM panel_vote v JOIN app_user u"
               " ON u.id = v.member_id JOIN panel_ballot b ON b.id = v.ballot_id"
               " WHERE v.session_id = ?")
        params: list[Any] = [int(session_id)]
        if case_id is not None:
            sql += " AND v.case_id = ?"
            params.append(int(case_id))
        return [PanelVoteRecord(int(r["ballot_id"]), int(r["case_id"]), r["field"],
                                int(r["member_id"]), r["username"], bool(r["casting"]),
                                json.loads(r["value_json"]), r["cast_at"])
                for r in self.uow.rows(sql + " ORDER BY v.case_id, v.field, v.ballot_id",
                                       params)]

    def ballot(self, ballot_id: int) -> tuple[int, int, int, bool, str] | None:
        """(session, case, member, casting, cast_at) of a ballot."""
        r = self.uow.row("SELECT * FROM panel_ballot WHERE id = ?", (int(ballot_id),))
        if r is None:
            return None
        return (int(r["session_id"]), int(r["case_id"]), int(r["member_id"]),
                bool(r["casting"]), r["cast_at"])

    def ballot_votes(self, ballot_id: int) -> dict[str, Any]:
        return {f: json.loads(v) for f, v in self.uow.tuples(
            "SELECT field, value_json FROM panel_vote WHERE ballot_id = ? ORDER BY field",
            (int(ballot_id),))}

    def close(self, session_id: int, minutes: str, at: str,
              results: Sequence[tuple[int, str, Any, str]]) -> None:
        """Close the session with its minutes and results (case, field, value, detail); its
        open cases become decided."""
        self.uow.executemany(
            "INSERT INTO panel_result (session_id, case_id, field, value_json, detail)"
            " VALUES (?,?,?,?,?)",
            [(session_id, c, f, json.dumps(v, ensure_ascii=False), d) for c, f, v, d in results])
        self.uow.execute("UPDATE panel_case SET status = 'decided' WHERE session_id = ?"
                         " AND status = 'open'", (session_id,))
        self.uow.execute("UPDATE panel_session SET status = 'closed', minutes = ?,"
                         " closed_at = ? WHERE id = ?", (minutes, at, session_id))

    def results(self, session_id: int) -> list[PanelResultRecord]:
        return [PanelResultRecord(int(r["session_id"]), int(r["case_id"]), r["field"],
                                  json.loads(r["value_json"]), r["detail"], r["closed_at"])
                for r in self.uow.rows(
            "SELECT p.*, s.closed_at FROM panel_result p JOIN panel_session s"
            " ON s.id = p.session_id WHERE p.session_id = ? ORDER BY p.case_id, p.field",
            (int(session_id),))]

    def standing_results(self, case_id: int) -> list[PanelResultRecord]:
        """The results of the case's newest decided (not superseded) panel decision."""
        row = self.uow.row(
            "SELECT p.session_id FROM panel_case p JOIN panel_session s ON s.id = p.session_id"
            " WHERE p.case_id = ? AND p.status = 'decided' ORDER BY s.closed_at DESC,"
            " p.session_id DESC", (int(case_id),))
        if row is None:
            return []
        return [r for r in self.results(int(row["session_id"])) if r.case_id == case_id]

    def counts(self) -> dict[str, int]:
        return {s: int(n) for s, n in self.uow.tuples(
            "SELECT status, COUNT(*) FROM panel_session GROUP BY status")}


# -- exports ----------------------------------------------------------------------------------
class ExportRepository(_Repository):
    def add(self, created_at: str, created_by: str, parameters: Mapping[str, Any],
            manifest_sha256: str, audit_head: str, identified: bool, n_files: int) -> int:
        return self.uow.insert(
            "INSERT INTO export_record (created_at, created_by, parameters_json, manifest_sha256,"
            " audit_head, identified, n_files) VALUES (?,?,?,?,?,?,?)",
            (created_at, created_by, json.dumps(dict(parameters), sort_keys=True),
             manifest_sha256, audit_head, int(identified), n_files))

    def key_seed(self) -> str:
        """A value fixed for the life of this database and absent from every export (the
        audit chain's first hash): the seed of exported pseudonymous UIDs."""
        return str(self.uow.scalar("SELECT hash FROM audit ORDER BY seq LIMIT 1") or "")

    def get(self, export_id: int) -> ExportRecord | None:
        r = self.uow.row("SELECT * FROM export_record WHERE id = ?", (int(export_id),))
        if r is None:
            return None
        return ExportRecord(int(r["id"]), r["created_at"], r["created_by"],
                            json.loads(r["parameters_json"]), r["manifest_sha256"],
                            r["audit_head"], bool(r["identified"]), int(r["n_files"]))
