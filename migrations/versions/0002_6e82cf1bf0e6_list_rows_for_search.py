"""Add the list rows of the session and action lists, and their search labels

One denormalised row per session (session_listing) and per action (action_listing), kept by
the flush listener of portal/search/maintenance.py; search_labels holds each distinct
normalised text once, search_words each distinct word of those texts, search_label_words
which label has which word. Plain tables and B-tree indexes only, identical on SQLite and PostgreSQL.

The rows of an existing offer are computed here with a frozen copy of the normalisation and of
the row rules, so that this migration keeps working whatever the application code becomes.

Revision ID: 6e82cf1bf0e6
Revises: a953e9caee26
Create Date: 2026-11-27 02:05:41.784671

"""
import unicodedata
from datetime import date

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "6e82cf1bf0e6"
down_revision = "a953e9caee26"
branch_labels = None
depends_on = None

SESSION_INDEXES = {
    "ix_session_listing_est_id": ["establishment_id", "session_id"],
    "ix_session_listing_est_code": ["establishment_id", "formation_id", "action_id", "session_id"],
    "ix_session_listing_est_title": ["establishment_id", "title_key", "session_id"],
    "ix_session_listing_est_site": ["establishment_id", "site_key", "session_id"],
    "ix_session_listing_est_commune": ["establishment_id", "commune_key", "session_id"],
    "ix_session_listing_est_start": ["establishment_id", "start_date", "session_id"],
    "ix_session_listing_est_end": ["establishment_id", "end_date", "session_id"],
    "ix_session_listing_est_dispositif": ["establishment_id", "dispositif_code", "session_id"],
    "ix_session_listing_est_counters": [
        "establishment_id", "active", "end_date", "teaching_mode", "is_initial_training",
        "is_apprenticeship", "is_professionalisation", "is_region",
    ],
    "ix_session_listing_code": ["formation_id", "action_id", "session_id"],
    "ix_session_listing_title": ["title_key", "session_id"],
    "ix_session_listing_site": ["site_key", "session_id"],
    "ix_session_listing_commune": ["commune_key", "session_id"],
    "ix_session_listing_start": ["start_date", "session_id"],
    "ix_session_listing_end": ["end_date", "session_id"],
    "ix_session_listing_dispositif": ["dispositif_code", "session_id"],
    "ix_session_listing_siret": ["siret", "session_id"],
    "ix_session_listing_counters": [
        "active", "end_date", "teaching_mode", "is_initial_training", "is_apprenticeship",
        "is_professionalisation", "is_region",
    ],
    "ix_session_listing_action_id": ["action_id"],
    "ix_session_listing_title_label_id": ["title_label_id"],
    "ix_session_listing_complement_label_id": ["complement_label_id"],
    "ix_session_listing_site_label_id": ["site_label_id"],
    "ix_session_listing_commune_label_id": ["commune_label_id"],
}
ACTION_INDEXES = {
    "ix_action_listing_est_id": ["establishment_id", "action_id"],
    "ix_action_listing_est_code": ["establishment_id", "formation_id", "action_id"],
    "ix_action_listing_est_title": ["establishment_id", "title_key", "action_id"],
    "ix_action_listing_est_site": ["establishment_id", "site_key", "action_id"],
    "ix_action_listing_est_status": ["establishment_id", "status_rank", "action_id"],
    "ix_action_listing_est_type": ["establishment_id", "has_programme", "action_id"],
    "ix_action_listing_est_counters": ["establishment_id", "status", "is_public", "certif_replaced"],
    "ix_action_listing_code": ["formation_id", "action_id"],
    "ix_action_listing_title": ["title_key", "action_id"],
    "ix_action_listing_site": ["site_key", "action_id"],
    "ix_action_listing_status": ["status_rank", "action_id"],
    "ix_action_listing_type": ["has_programme", "action_id"],
    "ix_action_listing_siret": ["siret", "action_id"],
    "ix_action_listing_title_label_id": ["title_label_id"],
    "ix_action_listing_complement_label_id": ["complement_label_id"],
    "ix_action_listing_site_label_id": ["site_label_id"],
}


def upgrade():
    labels = op.create_table(
        "search_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=600), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_labels")),
        sa.UniqueConstraint("text", name=op.f("uq_search_labels_text")),
    )
    words = op.create_table(
        "search_words",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("word", sa.String(length=600), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_words")),
        sa.UniqueConstraint("word", name=op.f("uq_search_words_word")),
    )
    label_words = op.create_table(
        "search_label_words",
        sa.Column("word_id", sa.Integer(), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["label_id"], ["search_labels.id"],
            name=op.f("fk_search_label_words_label_id_search_labels"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["word_id"], ["search_words.id"],
            name=op.f("fk_search_label_words_word_id_search_words"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("word_id", "label_id", name=op.f("pk_search_label_words")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_search_label_words_label_id", "search_label_words", ["label_id"], unique=False
    )
    actions = op.create_table(
        "action_listing",
        sa.Column("action_id", sa.Integer(), autoincrement=False, nullable=False),
        # Fixed-width columns first: PostgreSQL reads a row's columns in order.
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("formation_id", sa.Integer(), nullable=False),
        sa.Column("status_rank", sa.Integer(), nullable=False),
        sa.Column("has_programme", sa.Boolean(), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("certif_replaced", sa.Boolean(), nullable=False),
        sa.Column("title_label_id", sa.Integer(), nullable=True),
        sa.Column("complement_label_id", sa.Integer(), nullable=True),
        sa.Column("site_label_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("siret", sa.String(length=14), nullable=False),
        sa.Column("title", sa.String(length=600), nullable=False),
        sa.Column("title_key", sa.String(length=120), nullable=False),
        sa.Column("site_name", sa.String(length=600), nullable=False),
        sa.Column("site_key", sa.String(length=120), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"], ["actions.id"],
            name=op.f("fk_action_listing_action_id_actions"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["establishment_id"], ["establishments.id"],
            name=op.f("fk_action_listing_establishment_id_establishments"),
        ),
        sa.PrimaryKeyConstraint("action_id", name=op.f("pk_action_listing")),
    )
    sessions = op.create_table(
        "session_listing",
        sa.Column("session_id", sa.Integer(), autoincrement=False, nullable=False),
        # Fixed-width columns first: PostgreSQL reads a row's columns in order.
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("formation_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("dispositif_code", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("teaching_mode", sa.Integer(), nullable=True),
        sa.Column("is_initial_training", sa.Boolean(), nullable=False),
        sa.Column("is_apprenticeship", sa.Boolean(), nullable=False),
        sa.Column("is_professionalisation", sa.Boolean(), nullable=False),
        sa.Column("is_region", sa.Boolean(), nullable=False),
        sa.Column("title_label_id", sa.Integer(), nullable=True),
        sa.Column("complement_label_id", sa.Integer(), nullable=True),
        sa.Column("site_label_id", sa.Integer(), nullable=True),
        sa.Column("commune_label_id", sa.Integer(), nullable=True),
        sa.Column("siret", sa.String(length=14), nullable=False),
        sa.Column("title", sa.String(length=600), nullable=False),
        sa.Column("title_key", sa.String(length=120), nullable=False),
        sa.Column("site_name", sa.String(length=250), nullable=False),
        sa.Column("site_key", sa.String(length=120), nullable=False),
        sa.Column("commune", sa.String(length=50), nullable=False),
        sa.Column("commune_key", sa.String(length=50), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["establishment_id"], ["establishments.id"],
            name=op.f("fk_session_listing_establishment_id_establishments"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"],
            name=op.f("fk_session_listing_session_id_sessions"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_session_listing")),
    )
    _backfill(op.get_bind(), labels, words, label_words, actions, sessions)
    for name, columns in SESSION_INDEXES.items():
        op.create_index(name, "session_listing", columns, unique=False)
    for name, columns in ACTION_INDEXES.items():
        op.create_index(name, "action_listing", columns, unique=False)


def downgrade():
    op.drop_table("session_listing")
    op.drop_table("action_listing")
    op.drop_table("search_label_words")
    op.drop_table("search_words")
    op.drop_table("search_labels")


# Frozen copy (2026-11) of portal/search/normalise.py and portal/search/listing.py.
_FOLD = str.maketrans(
    {"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "‐": "-", "‑": "-", "‒": "-", "–": "-",
     "—": "-", "−": "-", "œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d",
     "þ": "th", "ı": "i"}
)
NO_START = date(1, 1, 1)
NO_END = date(9999, 12, 31)
STATUS_RANK = {"questioned": 0, "submitted": 1, "draft": 2, "rejected": 3, "validated": 4}


def _norm(text):
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.translate(_FOLD).split())


def _texts(*texts):
    return [_norm(t)[:600] for t in texts]


def _joined(labels):
    return " | ".join(label for label in labels if label)


def _title(has_certif_info, cert_title, free_title, complement):
    title = cert_title if has_certif_info and cert_title is not None else (free_title or "")
    return title, (f"{title} - {complement}" if complement else title)


_ACTION_SQL = sa.text(
    """
    SELECT a.id, a.establishment_id, owner.siret, a.formation_id, f.has_certif_info,
           c.title AS cert_title, f.free_title, a.title_complement, a.status, f.programme_id,
           p.is_public, f.certif_replaced_at, site.name AS site_name, provider.sofi_number,
           provider.name AS provider_name
    FROM actions a
    JOIN formations f ON f.id = a.formation_id
    JOIN establishments owner ON owner.id = a.establishment_id
    LEFT JOIN certifications c ON c.id = f.certification_id
    LEFT JOIN programmes p ON p.id = f.programme_id
    LEFT JOIN sites site ON site.id = a.site_id
    LEFT JOIN establishments provider ON provider.id = site.establishment_id
    WHERE a.id > :low ORDER BY a.id LIMIT 2000
    """
)
_SESSION_SQL = sa.text(
    """
    SELECT s.id, s.establishment_id, owner.siret, a.formation_id, s.action_id,
           f.has_certif_info, c.title AS cert_title, f.free_title, a.title_complement,
           provider.name AS site_name, place.commune, s.start_date, s.end_date,
           p.dispositif_code, p.is_region, s.active, s.teaching_mode, s.is_initial_training,
           s.is_apprenticeship, s.is_professionalisation
    FROM sessions s
    JOIN actions a ON a.id = s.action_id
    JOIN formations f ON f.id = a.formation_id
    JOIN establishments owner ON owner.id = s.establishment_id
    LEFT JOIN certifications c ON c.id = f.certification_id
    LEFT JOIN programmes p ON p.id = f.programme_id
    LEFT JOIN sites action_site ON action_site.id = a.site_id
    LEFT JOIN establishments provider ON provider.id = action_site.establishment_id
    LEFT JOIN sites place ON place.id = s.site_id
    WHERE s.id > :low ORDER BY s.id LIMIT 2000
    """
).columns(start_date=sa.Date(), end_date=sa.Date())


def _backfill(conn, labels, words, label_words, actions, sessions):
    ids = {}
    word_ids = {}

    def label(text):
        text = _norm(text)[:600]
        if not text:
            return None
        if text not in ids:
            ids[text] = conn.execute(labels.insert().values(text=text)).inserted_primary_key[0]
            for word in set(text.split(" ")):
                if word not in word_ids:
                    word_ids[word] = conn.execute(
                        words.insert().values(word=word)
                    ).inserted_primary_key[0]
                conn.execute(
                    label_words.insert().values(word_id=word_ids[word], label_id=ids[text])
                )
        return ids[text]

    low = 0
    while rows := conn.execute(_ACTION_SQL, {"low": low}).all():
        batch = []
        for r in rows:
            title, shown = _title(r.has_certif_info, r.cert_title, r.free_title, r.title_complement)
            site = f"{r.sofi_number} - {r.provider_name} - {r.site_name}" if r.site_name else ""
            batch.append(
                dict(
                    action_id=r.id, establishment_id=r.establishment_id, siret=r.siret,
                    formation_id=r.formation_id, title=shown[:600], title_key=_norm(shown)[:120],
                    site_name=site[:600], site_key=_norm(site)[:120], status=r.status,
                    status_rank=STATUS_RANK.get(r.status, 5),
                    has_programme=r.programme_id is not None, is_public=bool(r.is_public),
                    certif_replaced=r.certif_replaced_at is not None,
                    title_label_id=label(title), complement_label_id=label(r.title_complement),
                    site_label_id=label(site),
                    search_text=_joined(_texts(title, r.title_complement, site)),
                )
            )
        conn.execute(actions.insert(), batch)
        low = rows[-1].id
    low = 0
    while rows := conn.execute(_SESSION_SQL, {"low": low}).all():
        batch = []
        for r in rows:
            title, shown = _title(r.has_certif_info, r.cert_title, r.free_title, r.title_complement)
            batch.append(
                dict(
                    session_id=r.id, establishment_id=r.establishment_id, siret=r.siret,
                    formation_id=r.formation_id, action_id=r.action_id, title=shown[:600],
                    title_key=_norm(shown)[:120], site_name=(r.site_name or "")[:250],
                    site_key=_norm(r.site_name)[:120], commune=r.commune or "",
                    commune_key=_norm(r.commune)[:50], start_date=r.start_date or NO_START,
                    end_date=r.end_date or NO_END, dispositif_code=r.dispositif_code or 0,
                    active=bool(r.active), teaching_mode=r.teaching_mode,
                    is_initial_training=bool(r.is_initial_training),
                    is_apprenticeship=bool(r.is_apprenticeship),
                    is_professionalisation=bool(r.is_professionalisation),
                    is_region=bool(r.is_region), title_label_id=label(title),
                    complement_label_id=label(r.title_complement), site_label_id=label(r.site_name),
                    commune_label_id=label(r.commune),
                    search_text=_joined(
                        _texts(title, r.title_complement, r.site_name, r.commune)
                    ),
                )
            )
        conn.execute(sessions.insert(), batch)
        low = rows[-1].id
