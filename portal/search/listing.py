"""Compute and write the list rows (``session_listing``, ``action_listing``) from the offer.

Called with a Connection so that it runs inside whatever transaction changed the offer (the
flush listener of ``maintenance``), the rebuild command and the benchmark generator alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, delete, select
from sqlalchemy.orm import aliased

from ..models import (
    Action,
    ActionStatus,
    Certification,
    Establishment,
    Formation,
    Programme,
    Session,
    Site,
)
from .models import (
    KEY_LENGTH,
    LABEL_LENGTH,
    NO_END,
    NO_START,
    ActionListing,
    SearchLabel,
    SearchLabelWord,
    SearchWord,
    SessionListing,
)
from .normalise import normalise

SEPARATOR = " | "
CHUNK = 500  # ids per IN (…): far below every database's bound-parameter limit
SESSION_TABLE: Table = SessionListing.__table__  # type: ignore[assignment]
ACTION_TABLE: Table = ActionListing.__table__  # type: ignore[assignment]
LABEL_TABLE: Table = SearchLabel.__table__  # type: ignore[assignment]
WORD_TABLE: Table = SearchWord.__table__  # type: ignore[assignment]
LABEL_WORD_TABLE: Table = SearchLabelWord.__table__  # type: ignore[assignment]

# Etat sorts like the list reads: by the French label, not by the code.
STATUS_RANK = {
    code: rank
    for rank, code in enumerate(
        sorted(ActionStatus.LABELS, key=lambda c: normalise(ActionStatus.LABELS[c]))
    )
}


def chunked(ids: Iterable[int], size: int = CHUNK) -> Iterator[list[int]]:
    batch: list[int] = []
    for id_ in ids:
        batch.append(id_)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def formation_title(has_certif_info: bool | None, cert_title: str | None, free: str | None) -> str:
    """Formation.title on plain values: the Certif Info title, else the free title."""
    if has_certif_info and cert_title is not None:
        return cert_title
    return free or ""


def display_title(title: str, complement: str | None) -> str:
    """Intitulé formation as the lists show it: the title, then " - " and the complement."""
    return f"{title} - {complement}" if complement else title


def site_label(sofi_number: int | None, establishment: str | None, site: str | None) -> str:
    """Site.label on plain values (SOFI number - establishment - site)."""
    if site is None:
        return ""
    return f"{sofi_number} - {establishment} - {site}"


def search_text(labels: Iterable[str]) -> str:
    """The row's labels in one text, checked with LIKE row by row. The separator holds spaces
    and a typed word has none, so a word is found here exactly when it is in one label."""
    return SEPARATOR.join(label for label in labels if label)


class ListingWriter:
    """Normalises texts once per distinct value and resolves their label ids."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.normalised: dict[str, str] = {}
        self.label_ids: dict[str, int] = {}

    def norm(self, text: str | None) -> str:
        if not text:
            return ""
        value = self.normalised.get(text)
        if value is None:
            value = self.normalised[text] = normalise(text)
        return value

    def key(self, text: str | None, length: int = KEY_LENGTH) -> str:
        return self.norm(text)[:length]

    def resolve_labels(self, texts: Iterable[str]) -> None:
        """Make sure every normalised text has a label id (insert the new ones, with their
        words)."""
        missing = {t for t in texts if t and t not in self.label_ids}
        for batch in chunked(sorted(missing)):
            self._load(batch)
            new = [t for t in batch if t not in self.label_ids]
            if not new:
                continue
            stmt = (
                _insert(self.conn, LABEL_TABLE)
                .on_conflict_do_nothing(index_elements=["text"])
                .returning(LABEL_TABLE.c.id, LABEL_TABLE.c.text)
            )
            # Only the labels this transaction created get their words: one created meanwhile
            # by another transaction came with its own.
            created = [tuple(row) for row in self.conn.execute(stmt, [{"text": t} for t in new])]
            self._add_words(created)
            for id_, text in created:
                self.label_ids[text] = id_
            self._load([t for t in new if t not in self.label_ids])

    def _add_words(self, labels: list[tuple[int, str]]) -> None:
        words = {w for _, text in labels for w in text.split(" ")}
        ids: dict[str, int] = {}
        for batch in chunked(sorted(words)):
            self.conn.execute(
                _insert(self.conn, WORD_TABLE).on_conflict_do_nothing(index_elements=["word"]),
                [{"word": w} for w in batch],
            )
            rows = self.conn.execute(
                select(WORD_TABLE.c.id, WORD_TABLE.c.word).where(WORD_TABLE.c.word.in_(batch))
            )
            ids.update((word, id_) for id_, word in rows)
        pairs = {(ids[w], id_) for id_, text in labels for w in text.split(" ")}
        if pairs:
            self.conn.execute(
                LABEL_WORD_TABLE.insert(),
                [{"word_id": w, "label_id": label} for w, label in sorted(pairs)],
            )

    def _load(self, texts: list[str]) -> None:
        if not texts:
            return
        rows = self.conn.execute(
            select(LABEL_TABLE.c.id, LABEL_TABLE.c.text).where(LABEL_TABLE.c.text.in_(texts))
        )
        for id_, text in rows:
            self.label_ids[text] = id_

    def label(self, text: str) -> int | None:
        return self.label_ids.get(text) if text else None


def _insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def _write(conn: Connection, table: Table, key: str, rows: list[dict], upsert: bool) -> None:
    if not rows:
        return
    if not upsert:
        conn.execute(table.insert(), rows)
        return
    stmt = _insert(conn, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[key],
        set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name != key},
    )
    conn.execute(stmt, rows)


def _session_source(condition: ColumnElement[bool]):
    owner = aliased(Establishment)
    action_site = aliased(Site)
    provider = aliased(Establishment)
    place = aliased(Site)
    return (
        select(
            Session.id,
            Session.establishment_id,
            owner.siret,
            Action.formation_id,
            Session.action_id,
            Formation.has_certif_info,
            Certification.title.label("cert_title"),
            Formation.free_title,
            Action.title_complement,
            provider.name.label("site_name"),
            place.commune,
            Session.start_date,
            Session.end_date,
            Programme.dispositif_code,
            Programme.is_region,
            Session.active,
            Session.teaching_mode,
            Session.is_initial_training,
            Session.is_apprenticeship,
            Session.is_professionalisation,
        )
        .select_from(Session)
        .join(Action, Action.id == Session.action_id)
        .join(Formation, Formation.id == Action.formation_id)
        .join(owner, owner.id == Session.establishment_id)
        .outerjoin(Certification, Certification.id == Formation.certification_id)
        .outerjoin(Programme, Programme.id == Formation.programme_id)
        .outerjoin(action_site, action_site.id == Action.site_id)
        .outerjoin(provider, provider.id == action_site.establishment_id)
        .outerjoin(place, place.id == Session.site_id)
        .where(condition)
    )


def _session_rows(writer: ListingWriter, condition: ColumnElement[bool]) -> list[dict]:
    source = writer.conn.execute(_session_source(condition)).all()
    prepared = []
    texts: set[str] = set()
    for r in source:
        title = formation_title(r.has_certif_info, r.cert_title, r.free_title)
        labels = (
            writer.norm(title)[:LABEL_LENGTH],
            writer.norm(r.title_complement)[:LABEL_LENGTH],
            writer.norm(r.site_name)[:LABEL_LENGTH],
            writer.norm(r.commune)[:LABEL_LENGTH],
        )
        texts.update(labels)
        prepared.append((r, title, labels))
    writer.resolve_labels(texts)
    rows = []
    for r, title, labels in prepared:
        shown = display_title(title, r.title_complement)
        rows.append(
            {
                "session_id": r.id,
                "establishment_id": r.establishment_id,
                "siret": r.siret,
                "formation_id": r.formation_id,
                "action_id": r.action_id,
                "title": shown[:LABEL_LENGTH],
                "title_key": writer.key(shown),
                "site_name": (r.site_name or "")[:250],
                "site_key": writer.key(r.site_name),
                "commune": r.commune or "",
                "commune_key": writer.key(r.commune, 50),
                "start_date": r.start_date or NO_START,
                "end_date": r.end_date or NO_END,
                "dispositif_code": r.dispositif_code or 0,
                "active": bool(r.active),
                "teaching_mode": r.teaching_mode,
                "is_initial_training": bool(r.is_initial_training),
                "is_apprenticeship": bool(r.is_apprenticeship),
                "is_professionalisation": bool(r.is_professionalisation),
                "is_region": bool(r.is_region),
                "title_label_id": writer.label(labels[0]),
                "complement_label_id": writer.label(labels[1]),
                "site_label_id": writer.label(labels[2]),
                "commune_label_id": writer.label(labels[3]),
                "search_text": search_text(labels),
            }
        )
    return rows


def _action_source(condition: ColumnElement[bool]):
    owner = aliased(Establishment)
    site = aliased(Site)
    provider = aliased(Establishment)
    return (
        select(
            Action.id,
            Action.establishment_id,
            owner.siret,
            Action.formation_id,
            Formation.has_certif_info,
            Certification.title.label("cert_title"),
            Formation.free_title,
            Action.title_complement,
            Action.status,
            Formation.programme_id,
            Programme.is_public,
            Formation.certif_replaced_at,
            site.name.label("site_name"),
            provider.sofi_number,
            provider.name.label("provider_name"),
        )
        .select_from(Action)
        .join(Formation, Formation.id == Action.formation_id)
        .join(owner, owner.id == Action.establishment_id)
        .outerjoin(Certification, Certification.id == Formation.certification_id)
        .outerjoin(Programme, Programme.id == Formation.programme_id)
        .outerjoin(site, site.id == Action.site_id)
        .outerjoin(provider, provider.id == site.establishment_id)
        .where(condition)
    )


def _action_rows(writer: ListingWriter, condition: ColumnElement[bool]) -> list[dict]:
    source = writer.conn.execute(_action_source(condition)).all()
    prepared = []
    texts: set[str] = set()
    for r in source:
        title = formation_title(r.has_certif_info, r.cert_title, r.free_title)
        site = site_label(r.sofi_number, r.provider_name, r.site_name)
        labels = (
            writer.norm(title)[:LABEL_LENGTH],
            writer.norm(r.title_complement)[:LABEL_LENGTH],
            writer.norm(site)[:LABEL_LENGTH],
        )
        texts.update(labels)
        prepared.append((r, title, site, labels))
    writer.resolve_labels(texts)
    rows = []
    for r, title, site, labels in prepared:
        shown = display_title(title, r.title_complement)
        rows.append(
            {
                "action_id": r.id,
                "establishment_id": r.establishment_id,
                "siret": r.siret,
                "formation_id": r.formation_id,
                "title": shown[:LABEL_LENGTH],
                "title_key": writer.key(shown),
                "site_name": site[:LABEL_LENGTH],
                "site_key": writer.key(site),
                "status": r.status,
                "status_rank": STATUS_RANK.get(r.status, len(STATUS_RANK)),
                "has_programme": r.programme_id is not None,
                "is_public": bool(r.is_public),
                "certif_replaced": r.certif_replaced_at is not None,
                "title_label_id": writer.label(labels[0]),
                "complement_label_id": writer.label(labels[1]),
                "site_label_id": writer.label(labels[2]),
                "search_text": search_text(labels),
            }
        )
    return rows


def refresh_sessions(
    conn: Connection, ids: Iterable[int], writer: ListingWriter | None = None
) -> int:
    """Rewrite the list rows of these sessions; drop those of sessions that no longer exist."""
    writer = writer or ListingWriter(conn)
    count = 0
    for batch in chunked(sorted(set(ids))):
        rows = _session_rows(writer, Session.id.in_(batch))
        _write(conn, SESSION_TABLE, "session_id", rows, upsert=True)
        gone = set(batch) - {row["session_id"] for row in rows}
        if gone:
            conn.execute(delete(SessionListing).where(SessionListing.session_id.in_(gone)))
        count += len(rows)
    return count


def refresh_actions(
    conn: Connection, ids: Iterable[int], writer: ListingWriter | None = None
) -> int:
    """Rewrite the list rows of these actions; drop those of actions that no longer exist."""
    writer = writer or ListingWriter(conn)
    count = 0
    for batch in chunked(sorted(set(ids))):
        rows = _action_rows(writer, Action.id.in_(batch))
        _write(conn, ACTION_TABLE, "action_id", rows, upsert=True)
        gone = set(batch) - {row["action_id"] for row in rows}
        if gone:
            conn.execute(delete(ActionListing).where(ActionListing.action_id.in_(gone)))
        count += len(rows)
    return count


def _id_ranges(conn: Connection, column, size: int) -> Iterator[tuple[int, int]]:
    """Consecutive (low, high) id bounds holding at most ``size`` rows each."""
    low = 0
    while True:
        ids = conn.scalars(select(column).where(column > low).order_by(column).limit(size)).all()
        if not ids:
            return
        yield ids[0], ids[-1]
        low = ids[-1]


def rebuild(conn: Connection, chunk: int = 5000, progress=None) -> tuple[int, int]:
    """Recompute every list row from the offer, then drop the labels nothing uses."""
    writer = ListingWriter(conn)
    conn.execute(delete(SessionListing))
    conn.execute(delete(ActionListing))
    actions = sessions = 0
    for low, high in _id_ranges(conn, Action.id, chunk):
        rows = _action_rows(writer, Action.id.between(low, high))
        _write(conn, ACTION_TABLE, "action_id", rows, upsert=False)
        actions += len(rows)
    for low, high in _id_ranges(conn, Session.id, chunk):
        rows = _session_rows(writer, Session.id.between(low, high))
        _write(conn, SESSION_TABLE, "session_id", rows, upsert=False)
        sessions += len(rows)
        if progress:
            progress(sessions)
    prune_labels(conn)
    return sessions, actions


def prune_labels(conn: Connection) -> int:
    """Delete the labels no list row refers to any more (left by renamed titles or sites),
    then the words no label uses."""
    used = [
        select(column).where(column.is_not(None))
        for column in (
            SessionListing.title_label_id,
            SessionListing.complement_label_id,
            SessionListing.site_label_id,
            SessionListing.commune_label_id,
            ActionListing.title_label_id,
            ActionListing.complement_label_id,
            ActionListing.site_label_id,
        )
    ]
    unused = select(SearchLabel.id).where(SearchLabel.id.not_in(used[0].union(*used[1:])))
    conn.execute(delete(SearchLabelWord).where(SearchLabelWord.label_id.in_(unused)))
    deleted = conn.execute(delete(SearchLabel).where(SearchLabel.id.in_(unused))).rowcount
    conn.execute(delete(SearchWord).where(SearchWord.id.not_in(select(SearchLabelWord.word_id))))
    return deleted
