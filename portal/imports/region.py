"""The Region's extraction file: programmes, lots, mandataire and formateur organisations.

One XLSX workbook with four sheets (or four CSV files named after them), described in
docs/region-file.md; ``SHEETS`` below is the single source of the columns. Planning compares
the file with the database in a few queries (everything keyed by code or SIRET in dicts), so a
file of 5,000 lots and 20,000 organisations plans and applies in seconds:

- programmes and lots are matched by code, created or updated field by field, never deleted
  (a file may cover one programme or one year only);
- a lot's formateurs become exactly those the file lists for it;
- establishments are matched by SIRET; unknown ones are created with their organisation (from
  the SIREN) when that is unknown too, and a new SOFI number. Known establishments are never
  modified: the organisation keeps its record up to date in the annuaire. No account is created.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from sqlalchemy import and_, delete, func, insert, select

from ..extensions import db
from ..models import Establishment, Lot, Organisation, Programme
from ..models.reference import lot_formateurs
from ..validators import has_control, normalise_siret
from .common import (
    CONTROL_MESSAGE,
    Change,
    FieldChange,
    ImportFileError,
    Issue,
    Plan,
    Table,
    code_value,
    normalise_header,
    parse_bool,
    parse_date,
    parse_int,
    read_csv_table,
    read_xlsx_tables,
    reserve_ids,
    text_value,
)

KIND = "region"
EXTENSIONS = (".xlsx", ".csv")


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    required: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class SheetSpec:
    key: str
    title: str
    description: str
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


_ESTABLISHMENT_COLUMNS = (
    Column("raison_sociale", "Raison sociale de l'organisme (créé s'il est inconnu)", True),
    Column("nom_etablissement", "Nom de l'établissement (par défaut : la raison sociale)"),
    Column("adresse", "Adresse (50 caractères au plus)"),
    Column("code_postal", "Code postal (5 chiffres)"),
    Column("commune", "Commune"),
    Column("nda", "Numéro de déclaration d'activité de l'organisme (11 caractères)"),
)
SHEETS = (
    SheetSpec(
        "programmes",
        "Programmes",
        "Une ligne par programme (dispositif).",
        (
            Column("code_programme", "Code du programme, ex. PE (30 caractères au plus)", True),
            Column(
                "intitule",
                "Intitulé, ex. PROGRAMME REGION - Formations Parcours entrepreneur",
                True,
                ("intitule_programme", "intitule_du_programme"),
            ),
            Column("code_dispositif", "Code dispositif (nombre entier), ex. 8", True),
            Column("publics", "Publics de la fiche Dispositif, ex. demandeur d'emploi"),
            Column(
                "sessions_annee_du_lot",
                "oui si les sessions doivent démarrer dans l'année du lot (défaut : non)",
            ),
            Column("actif", "oui/non (défaut : oui)"),
        ),
    ),
    SheetSpec(
        "lots",
        "Lots",
        "Une ligne par lot.",
        (
            Column("code_lot", "Code du lot, ex. PE2024_8 (30 caractères au plus)", True),
            Column(
                "code_programme", "Code d'un programme de la feuille Programmes ou de la base", True
            ),
            Column(
                "intitule",
                "Intitulé du lot, ex. Lot 8 - Formations à la création-reprise d'entreprise "
                "en Maine-et-Loire",
                True,
                ("intitule_lot", "intitule_du_lot"),
            ),
            Column("annee", "Année du lot, ex. 2024", True, ("annee_du_lot",)),
            Column("numero_lot_cr", "Numéro lot CR (code externe de la fiche Dispositif)"),
            Column("id_action_cr", "ID Action CR, ex. 2872"),
            Column("places_commandees", "Nombre de places commandées (entier ≥ 0)"),
            Column(
                "forfait_recrutement", "oui si le lot est au forfait recrutement (défaut : non)"
            ),
            Column(
                "date_debut", "Début d'exécution du lot (JJ/MM/AAAA) : contrôlé, non enregistré"
            ),
            Column("date_fin", "Fin d'exécution du lot (JJ/MM/AAAA) : contrôlée, non enregistrée"),
            Column("actif", "oui/non (défaut : oui)"),
        ),
    ),
    SheetSpec(
        "mandataires",
        "Mandataires",
        "Une ligne par lot : l'organisme mandataire du lot (exactement un par lot).",
        (
            Column("code_lot", "Code d'un lot de la feuille Lots", True),
            Column("siret", "SIRET de l'établissement mandataire (14 chiffres)", True),
            Column("of_mandataire_cr", "Identifiant du mandataire à la Région (OF Mandataire CR)"),
            *_ESTABLISHMENT_COLUMNS,
        ),
    ),
    SheetSpec(
        "formateurs",
        "Formateurs",
        "Une ligne par lot et par organisme formateur (zéro, une ou plusieurs par lot).",
        (
            Column("code_lot", "Code d'un lot de la feuille Lots", True),
            Column("siret", "SIRET de l'établissement formateur (14 chiffres)", True),
            *_ESTABLISHMENT_COLUMNS,
        ),
    ),
)
SHEETS_BY_KEY = {s.key: s for s in SHEETS}

LOT_FIELDS = {
    "programme": "Programme",
    "title": "Intitulé",
    "year": "Année",
    "region_lot_number": "Numéro lot CR",
    "region_action_id": "ID Action CR",
    "region_mandataire_id": "OF Mandataire CR",
    "places_ordered": "Places commandées",
    "fixed_recruitment_fee": "Forfait recrutement",
    "active": "Actif",
    "mandataire": "Mandataire (SIRET)",
    "formateurs": "Formateurs (SIRET)",
}
PROGRAMME_FIELDS = {
    "name": "Intitulé",
    "dispositif_code": "Code dispositif",
    "publics": "Publics",
    "start_in_lot_year": "Sessions dans l'année du lot",
    "active": "Actif",
}
_NDA = re.compile(r"[0-9A-Za-z]{11}")


# Reading the file(s) -------------------------------------------------------------------------


def sheet_for_name(name: str) -> SheetSpec | None:
    """The sheet a worksheet title or CSV file name stands for: "lots", "Region_2024-Lots",
    "Organismes mandataires" → its spec (a word of the name is the sheet's key)."""
    words = normalise_header(name).split("_")
    matches = [s for s in SHEETS if s.key in words]
    return matches[0] if len(matches) == 1 else None


def read_tables(paths: Iterable[Path]) -> tuple[dict[str, Table], list[Issue]]:
    """The four sheets from one XLSX, CSV files named after the sheets, or a directory of them."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in EXTENSIONS))
        else:
            files.append(path)
    errors: list[Issue] = []
    tables: dict[str, Table] = {}
    workbooks = [p for p in files if p.suffix.lower() == ".xlsx"]
    csvs = [p for p in files if p.suffix.lower() == ".csv"]
    others = [p for p in files if p.suffix.lower() not in EXTENSIONS]
    for path in others:
        errors.append(Issue(f"{path.name} : format non pris en charge (XLSX ou CSV attendu)."))
    if len(workbooks) > 1 or (workbooks and csvs):
        errors.append(Issue("Déposez un seul classeur XLSX, ou les fichiers CSV, pas les deux."))
        return tables, errors
    found: list[Table] = []
    try:
        if workbooks:
            found = read_xlsx_tables(workbooks[0])
        for path in csvs:
            found.append(read_csv_table(path.stem, path))
    except ImportFileError as error:
        errors.append(Issue(str(error)))
        return tables, errors
    for table in found:
        spec = sheet_for_name(table.name)
        if spec is None:
            if csvs:
                errors.append(
                    Issue(
                        f"Fichier {table.name}.csv non reconnu : nommez-le programmes.csv, "
                        "lots.csv, mandataires.csv ou formateurs.csv."
                    )
                )
            continue  # other worksheets (a notice, pivot tables) are not read
        if spec.key in tables:
            errors.append(Issue(f"Deux feuilles « {spec.title} » : {table.name} est en trop."))
            continue
        tables[spec.key] = table
    if not files:
        errors.append(Issue("Aucun fichier à importer."))
    return tables, errors


def check_columns(tables: dict[str, Table]) -> tuple[dict[str, dict[str, int]], list[Issue]]:
    """Map each sheet's columns to their positions; errors for missing sheets and columns."""
    errors: list[Issue] = []
    positions: dict[str, dict[str, int]] = {}
    for spec in SHEETS:
        table = tables.get(spec.key)
        if table is None:
            errors.append(Issue(f"Feuille « {spec.title} » absente du fichier."))
            continue
        index: dict[str, int] = {}
        for position, header in enumerate(table.headers):
            column = next((c for c in spec.columns if header in (c.name, *c.aliases)), None)
            if column is None:
                continue
            if column.name in index:
                errors.append(
                    Issue(
                        f"Colonne « {column.name} » en double.",
                        sheet=spec.title,
                        row=table.header_row,
                        column=header,
                    )
                )
            index[column.name] = position
        for column in spec.columns:
            if column.required and column.name not in index:
                errors.append(
                    Issue(
                        f"Colonne obligatoire absente : {column.name}.",
                        sheet=spec.title,
                        row=table.header_row,
                    )
                )
        positions[spec.key] = index
    return positions, errors


# Planning ------------------------------------------------------------------------------------


@dataclass
class EstablishmentRow:
    siret: str
    organisation_name: str
    name: str
    address: str | None
    postcode: str | None
    commune: str | None
    nda: str | None
    sheet: str
    row: int

    @property
    def siren(self) -> str:
        return self.siret[:9]

    def description(self) -> tuple:
        return tuple(
            _fold(v)
            for v in (
                self.organisation_name,
                self.name,
                self.address,
                self.postcode,
                self.commune,
                self.nda,
            )
        )


@dataclass
class LotRow:
    row: int
    values: dict[str, Any]
    valid: bool = True
    mandataire: str | None = None
    mandataire_rows: list[int] = field(default_factory=list)
    formateurs: dict[str, int] = field(default_factory=dict)  # SIRET → row


class _Row:
    """One data row being read: typed values, or row-numbered errors into the plan."""

    def __init__(self, plan: Plan, spec: SheetSpec, index: dict[str, int], number, cells):
        self.plan, self.spec, self.index, self.number, self.cells = plan, spec, index, number, cells
        self.failed = False

    def has(self, name: str) -> bool:
        return name in self.index

    def raw(self, name: str) -> Any:
        position = self.index.get(name)
        return None if position is None or position >= len(self.cells) else self.cells[position]

    def error(self, name: str | None, message: str) -> None:
        self.failed = True
        self.plan.errors.append(Issue(message, self.number, self.spec.title, name))

    def get(
        self,
        name: str,
        parse: Callable[[Any], Any] = text_value,
        *,
        max_length: int | None = None,
        default: Any = None,
    ) -> Any:
        value = self.raw(name)
        column = self.spec.column(name)
        if value is None:
            if column.required:
                self.error(name, "Valeur obligatoire manquante.")
            return default
        try:
            parsed = parse(value)
        except ValueError as error:
            self.error(name, str(error))
            return default
        if has_control(parsed):
            self.error(name, f"La cellule {CONTROL_MESSAGE}")
            return default
        if max_length is not None and isinstance(parsed, str) and len(parsed) > max_length:
            self.error(name, f"{max_length} caractères au plus ({len(parsed)} saisis).")
            return default
        return parsed


def plan_region(paths: Iterable[Path | str]) -> Plan:
    """Read and check the Region's file(s) and compare them with the database."""
    plan = Plan(KIND)
    tables, plan.errors = read_tables([Path(p) for p in paths])
    if plan.errors:
        return plan
    positions, plan.errors = check_columns(tables)
    if plan.errors:
        return plan
    _RegionPlanner(plan, tables, positions).run()
    return plan


class _RegionPlanner:
    def __init__(self, plan: Plan, tables: dict[str, Table], positions: dict[str, dict[str, int]]):
        self.plan = plan
        self.tables = tables
        self.positions = positions
        self.programmes: dict[str, tuple[int, dict[str, Any]]] = {}
        self.lots: dict[str, LotRow] = {}
        self.establishments: dict[str, EstablishmentRow] = {}
        self._sirets: dict[Any, str] = {}

    def rows(self, key: str) -> Iterable[_Row]:
        spec = SHEETS_BY_KEY[key]
        for number, cells in self.tables[key].rows:
            yield _Row(self.plan, spec, self.positions[key], number, cells)

    def run(self) -> None:
        self._load_database()
        self._read_programmes()
        self._read_lots()
        self._read_links("mandataires")
        self._read_links("formateurs")
        self._check_lots()
        if not (self.programmes or self.lots) and not self.plan.errors:
            self.plan.errors.append(Issue("Le fichier ne contient ni programme ni lot."))
        self._compare()

    def _load_database(self) -> None:
        session = db.session
        self.db_programmes = {p.code: p for p in session.scalars(select(Programme))}
        self.programme_codes = {p.id: code for code, p in self.db_programmes.items()}
        self.db_lots = {lot.code: lot for lot in session.scalars(select(Lot))}
        self.db_establishments = {
            siret: (id_, name)
            for id_, siret, name in session.execute(
                select(Establishment.id, Establishment.siret, Establishment.name)
            )
        }
        self.siret_by_id = {id_: siret for siret, (id_, _) in self.db_establishments.items()}
        self.db_organisations = dict(
            session.execute(select(Organisation.siren, Organisation.id)).all()
        )
        self.db_formateurs: dict[int, set[str]] = {}
        for lot_id, establishment_id in session.execute(select(lot_formateurs)):
            self.db_formateurs.setdefault(lot_id, set()).add(self.siret_by_id[establishment_id])

    def _read_programmes(self) -> None:
        for row in self.rows("programmes"):
            code = row.get("code_programme", max_length=30)
            values = {
                "name": row.get("intitule", max_length=250),
                "dispositif_code": row.get(
                    "code_dispositif", lambda v: parse_int(v, minimum=0, maximum=99999)
                ),
            }
            if row.has("publics"):
                values["publics"] = row.get("publics", max_length=250)
            if row.has("sessions_annee_du_lot"):
                values["start_in_lot_year"] = row.get(
                    "sessions_annee_du_lot", lambda v: parse_bool(v, False), default=False
                )
            if row.has("actif"):
                values["active"] = row.get("actif", lambda v: parse_bool(v, True), default=True)
            if code and code in self.programmes:
                row.error(
                    "code_programme",
                    f"Programme {code} en double (déjà ligne {self.programmes[code][0]}).",
                )
            if code and not row.failed:
                self.programmes[code] = (row.number, values)

    def _read_lots(self) -> None:
        for row in self.rows("lots"):
            code = row.get("code_lot", max_length=30)
            programme = row.get("code_programme", max_length=30)
            values: dict[str, Any] = {
                "programme": programme,
                "title": row.get("intitule", max_length=250),
                "year": row.get("annee", lambda v: parse_int(v, minimum=2000, maximum=2100)),
                "region_lot_number": row.get("numero_lot_cr", max_length=30),
                "region_action_id": row.get("id_action_cr", max_length=30),
                "places_ordered": row.get(
                    "places_commandees", lambda v: parse_int(v, minimum=0, maximum=1_000_000)
                ),
                "fixed_recruitment_fee": row.get(
                    "forfait_recrutement", lambda v: parse_bool(v, False), default=False
                ),
            }
            if not row.has("numero_lot_cr"):
                del values["region_lot_number"]
            if not row.has("id_action_cr"):
                del values["region_action_id"]
            if not row.has("places_commandees"):
                del values["places_ordered"]
            if not row.has("forfait_recrutement"):
                del values["fixed_recruitment_fee"]
            if row.has("actif"):
                values["active"] = row.get("actif", lambda v: parse_bool(v, True), default=True)
            start = row.get("date_debut", parse_date)
            end = row.get("date_fin", parse_date)
            if isinstance(start, date) and isinstance(end, date) and end < start:
                row.error("date_fin", "La date de fin est antérieure à la date de début.")
            if (
                programme
                and programme not in self.programmes
                and programme not in self.db_programmes
            ):
                row.error(
                    "code_programme",
                    f"Programme inconnu : {programme} (ni dans la feuille Programmes ni dans "
                    "la base).",
                )
            if code and code in self.lots:
                row.error(
                    "code_lot", f"Code lot {code} en double (déjà ligne {self.lots[code].row})."
                )
                continue
            if code:
                # Kept even when invalid, so that its mandataire rows are not "unknown lot".
                self.lots[code] = LotRow(row.number, values, valid=not row.failed)

    def _read_links(self, key: str) -> None:
        mandataires = key == "mandataires"
        for row in self.rows(key):
            code = row.get("code_lot", max_length=30)
            siret = row.get("siret", self._siret)
            region_id = row.get("of_mandataire_cr", max_length=30) if mandataires else None
            establishment = self._establishment(row, siret)
            lot = self.lots.get(code) if code else None
            if code and lot is None:
                row.error("code_lot", f"Lot inconnu : {code} (absent de la feuille Lots).")
            if lot is None:
                continue
            if mandataires:
                lot.mandataire_rows.append(row.number)
                if len(lot.mandataire_rows) > 1:
                    row.error(
                        "code_lot",
                        f"Le lot {code} a déjà un mandataire (ligne {lot.mandataire_rows[0]}) : "
                        "un seul mandataire par lot.",
                    )
                    continue
                if establishment and not row.failed:
                    lot.mandataire = establishment.siret
                    if row.has("of_mandataire_cr"):
                        lot.values["region_mandataire_id"] = region_id
            elif establishment and not row.failed:
                if establishment.siret in lot.formateurs:
                    row.error(
                        "siret",
                        f"Formateur {establishment.siret} en double pour le lot {code} (déjà "
                        f"ligne {lot.formateurs[establishment.siret]}).",
                    )
                    continue
                lot.formateurs[establishment.siret] = row.number

    def _siret(self, value: Any) -> str:
        # A mandataire is repeated on each of its lots: check each SIRET once.
        siret = self._sirets.get(value)
        if siret is None:
            siret = self._sirets[value] = normalise_siret(code_value(value, 14) or "")
        return siret

    def _establishment(self, row: _Row, siret: str | None) -> EstablishmentRow | None:
        """The row's establishment; its description must match other rows of the same SIRET
        when it is to be created (known establishments are not modified)."""
        organisation_name = row.get("raison_sociale", max_length=250)
        name = row.get("nom_etablissement", max_length=250) or organisation_name
        address = row.get("adresse", max_length=50)
        postcode = row.get("code_postal", lambda v: _postcode(code_value(v, 5)))
        commune = row.get("commune", max_length=50)
        nda = row.get("nda", _nda)
        if siret is None or row.failed:
            return None
        if siret in self.db_establishments:
            return EstablishmentRow(siret, "", "", None, None, None, None, row.spec.title, 0)
        current = EstablishmentRow(
            siret,
            organisation_name,
            name,
            address,
            postcode,
            commune,
            nda,
            row.spec.title,
            row.number,
        )
        first = self.establishments.get(siret)
        if first is None:
            self.establishments[siret] = current
            return current
        if first.description() != current.description():
            row.error(
                "siret",
                f"SIRET {siret} décrit autrement que feuille {first.sheet}, ligne {first.row} "
                "(raison sociale, nom, adresse ou NDA) : un établissement a une seule description.",
            )
            return None
        return first

    def _check_lots(self) -> None:
        spec = SHEETS_BY_KEY["lots"]
        for code, lot in self.lots.items():
            if lot.valid and not lot.mandataire_rows:
                self.plan.errors.append(
                    Issue(
                        f"Le lot {code} n'a pas de mandataire (feuille Mandataires).",
                        lot.row,
                        spec.title,
                        "code_lot",
                    )
                )
        # A new organisation is described once: two SIRETs of one unknown SIREN must agree.
        by_siren: dict[str, EstablishmentRow] = {}
        for establishment in self.establishments.values():
            if establishment.siren in self.db_organisations:
                continue
            first = by_siren.setdefault(establishment.siren, establishment)
            if (_fold(first.organisation_name), _fold(first.nda)) != (
                _fold(establishment.organisation_name),
                _fold(establishment.nda),
            ):
                self.plan.errors.append(
                    Issue(
                        f"SIREN {establishment.siren} : raison sociale ou NDA différents de la "
                        f"feuille {first.sheet}, ligne {first.row}.",
                        establishment.row,
                        establishment.sheet,
                        "raison_sociale",
                    )
                )

    def _compare(self) -> None:
        plan = self.plan
        programme_creates: dict[str, dict[str, Any]] = {}
        programme_updates: list[tuple[Programme, dict[str, Any]]] = []
        for code, (number, values) in self.programmes.items():
            record = self.db_programmes.get(code)
            sheet = SHEETS_BY_KEY["programmes"].title
            if record is None:
                programme_creates[code] = values
                plan.changes.append(
                    Change("create", "programme", code, values["name"], number, sheet)
                )
                continue
            diff = {k: v for k, v in values.items() if getattr(record, k) != v}
            if diff:
                programme_updates.append((record, diff))
            plan.changes.append(
                Change(
                    "update" if diff else "unchanged",
                    "programme",
                    code,
                    values["name"],
                    number,
                    sheet,
                    [
                        FieldChange(PROGRAMME_FIELDS[k], _show(getattr(record, k)), _show(v))
                        for k, v in diff.items()
                    ],
                )
            )

        lot_creates: dict[str, LotRow] = {}
        lot_updates: list[tuple[Lot, LotRow, dict[str, Any], set[str]]] = []
        sheet = SHEETS_BY_KEY["lots"].title
        for code, lot in self.lots.items():
            if not lot.valid or lot.mandataire is None:
                continue
            record = self.db_lots.get(code)
            if record is None:
                lot_creates[code] = lot
                plan.changes.append(
                    Change("create", "lot", code, lot.values["title"], lot.row, sheet)
                )
                continue
            current = self._lot_state(record)
            wanted = dict(lot.values, mandataire=lot.mandataire, formateurs=set(lot.formateurs))
            diff = {k: v for k, v in wanted.items() if current[k] != v}
            if diff:
                lot_updates.append((record, lot, diff, current["formateurs"]))
            plan.changes.append(
                Change(
                    "update" if diff else "unchanged",
                    "lot",
                    code,
                    lot.values["title"],
                    lot.row,
                    sheet,
                    [
                        FieldChange(LOT_FIELDS[k], _show(current[k]), _show(v))
                        for k, v in diff.items()
                    ],
                )
            )

        organisations: dict[str, EstablishmentRow] = {}
        for establishment in self.establishments.values():
            if establishment.siren not in self.db_organisations:
                organisations.setdefault(establishment.siren, establishment)
        for siren, first in organisations.items():
            plan.changes.append(
                Change(
                    "create", "organisation", siren, first.organisation_name, first.row, first.sheet
                )
            )
        used = self._used_sirets()
        for siret, (sheet_title, number) in used.items():
            known = self.db_establishments.get(siret)
            if known is None:
                establishment = self.establishments[siret]
                plan.changes.append(
                    Change(
                        "create", "establishment", siret, establishment.name, number, sheet_title
                    )
                )
            else:
                plan.changes.append(
                    Change("unchanged", "establishment", siret, known[1], number, sheet_title)
                )
        plan.payload = {
            "programme_creates": programme_creates,
            "programme_updates": programme_updates,
            "lot_creates": lot_creates,
            "lot_updates": lot_updates,
            "organisations": organisations,
            "establishments": {s: e for s, e in self.establishments.items() if s in used},
            "db_establishments": self.db_establishments,
            "db_organisations": self.db_organisations,
            "db_programmes": self.db_programmes,
        }

    def _used_sirets(self) -> dict[str, tuple[str, int]]:
        """SIRETs of the valid lots, each with the first row that names it."""
        used: dict[str, tuple[str, int]] = {}
        for lot in self.lots.values():
            if not lot.valid or lot.mandataire is None:
                continue
            used.setdefault(
                lot.mandataire, (SHEETS_BY_KEY["mandataires"].title, lot.mandataire_rows[0])
            )
            for siret, number in lot.formateurs.items():
                used.setdefault(siret, (SHEETS_BY_KEY["formateurs"].title, number))
        return used

    def _lot_state(self, lot: Lot) -> dict[str, Any]:
        return {
            "programme": self.programme_codes.get(lot.programme_id),
            "title": lot.title,
            "year": lot.year,
            "region_lot_number": lot.region_lot_number,
            "region_action_id": lot.region_action_id,
            "region_mandataire_id": lot.region_mandataire_id,
            "places_ordered": lot.places_ordered,
            "fixed_recruitment_fee": lot.fixed_recruitment_fee,
            "active": lot.active,
            "mandataire": self.siret_by_id.get(lot.mandataire_id),
            "formateurs": self.db_formateurs.get(lot.id, set()),
        }


def apply_region(plan: Plan) -> None:
    """Write the plan in the current transaction: one flush per level (organisations,
    establishments and programmes, lots), then the lots' formateurs (association rows).

    Foreign keys and primary keys are set as ids, not through relationships: at 45,000 new
    records the unit of work's relationship bookkeeping and row-by-row INSERT … RETURNING cost
    more than the inserts themselves (see ``reserve_ids``).
    """
    payload = plan.payload
    session = db.session
    ids = iter(reserve_ids(Organisation, len(payload["organisations"])))
    organisations = {
        siren: Organisation(id=next(ids), siren=siren, name=e.organisation_name, nda=e.nda)
        for siren, e in payload["organisations"].items()
    }
    session.add_all(organisations.values())
    session.flush()

    organisation_ids = dict(payload["db_organisations"])
    organisation_ids.update({siren: record.id for siren, record in organisations.items()})
    next_number = (session.scalar(select(func.max(Establishment.sofi_number))) or 0) + 1
    new_establishments = [
        (s, e)
        for s, e in payload["establishments"].items()
        if s not in payload["db_establishments"]
    ]
    ids = iter(reserve_ids(Establishment, len(new_establishments)))
    establishments: dict[str, Establishment] = {}
    for siret, e in new_establishments:
        establishments[siret] = Establishment(
            id=next(ids),
            organisation_id=organisation_ids[e.siren],
            siret=siret,
            sofi_number=next_number,
            name=e.name,
            address_line1=e.address,
            postcode=e.postcode,
            commune=e.commune,
        )
        next_number += 1
    session.add_all(establishments.values())
    programmes = dict(payload["db_programmes"])
    for code, values in payload["programme_creates"].items():
        programmes[code] = Programme(
            code=code, is_public=True, is_region=True, funder_code="2", **values
        )
        session.add(programmes[code])
    for record, diff in payload["programme_updates"]:
        for name, value in diff.items():
            setattr(record, name, value)
    session.flush()

    establishment_ids = {siret: id_ for siret, (id_, _) in payload["db_establishments"].items()}
    establishment_ids.update({siret: record.id for siret, record in establishments.items()})
    # (lot, SIRETs before, SIRETs after) of the lots whose formateurs change.
    formateurs: list[tuple[Lot, set[str], set[str]]] = []
    ids = iter(reserve_ids(Lot, len(payload["lot_creates"])))
    for code, lot in payload["lot_creates"].items():
        values = {k: v for k, v in lot.values.items() if k != "programme"}
        record = Lot(
            id=next(ids),
            code=code,
            programme_id=programmes[lot.values["programme"]].id,
            mandataire_id=establishment_ids[lot.mandataire],
            **values,
        )
        session.add(record)
        formateurs.append((record, set(), set(lot.formateurs)))
    for record, lot, diff, before in payload["lot_updates"]:
        for name, value in diff.items():
            if name == "programme":
                record.programme_id = programmes[value].id
            elif name == "mandataire":
                record.mandataire_id = establishment_ids[value]
            elif name != "formateurs":
                setattr(record, name, value)
        if "formateurs" in diff:
            formateurs.append((record, before, set(lot.formateurs)))
    session.flush()

    inserts = []
    for record, before, after in formateurs:
        current = {establishment_ids[s] for s in before}
        wanted = {establishment_ids[s] for s in after}
        if current - wanted:
            session.execute(
                delete(lot_formateurs).where(
                    and_(
                        lot_formateurs.c.lot_id == record.id,
                        lot_formateurs.c.establishment_id.in_(current - wanted),
                    )
                )
            )
        inserts += [{"lot_id": record.id, "establishment_id": i} for i in wanted - current]
    if inserts:
        session.execute(insert(lot_formateurs), inserts)


def _postcode(value: str | None) -> str | None:
    if value is None:
        return None
    if not re.fullmatch(r"\d{5}", value):
        raise ValueError(f"« {value} » n'est pas un code postal (5 chiffres).")
    return value


def _nda(value: Any) -> str:
    text = re.sub(r"\s", "", str(value))
    if not _NDA.fullmatch(text):
        raise ValueError(
            f"« {value} » n'est pas un numéro de déclaration d'activité (11 caractères)."
        )
    return text


def _fold(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


def _show(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, set):
        return ", ".join(sorted(value)) or "aucun"
    return str(value)


# Writing (template, sample, benchmark and test files) ---------------------------------------


def write_xlsx(target: Path | str | IO[bytes], sheets: dict[str, list[dict[str, Any]]]) -> None:
    """Write a Region workbook: one sheet per key of ``SHEETS`` with every column as header
    (values missing from a row are left blank), and a "Lisez-moi" sheet describing them."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for spec in SHEETS:
        sheet = workbook.create_sheet(spec.title)
        sheet.append([c.name for c in spec.columns])
        for record in sheets.get(spec.key, []):
            sheet.append([record.get(c.name) for c in spec.columns])
    notice = workbook.create_sheet("Lisez-moi")
    notice.append(["feuille", "colonne", "obligatoire", "description"])
    for spec in SHEETS:
        for column in spec.columns:
            notice.append(
                [spec.title, column.name, "oui" if column.required else "", column.description]
            )
    workbook.save(target)


def write_csvs(directory: Path | str, sheets: dict[str, list[dict[str, Any]]]) -> list[Path]:
    """Write the four CSV files (UTF-8, ``;``, dates as JJ/MM/AAAA) into ``directory``."""
    import csv

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for spec in SHEETS:
        path = directory / f"{spec.key}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, delimiter=";", lineterminator="\n")
            writer.writerow([c.name for c in spec.columns])
            for record in sheets.get(spec.key, []):
                writer.writerow([_csv_cell(record.get(c.name)) for c in spec.columns])
        paths.append(path)
    return paths


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)
