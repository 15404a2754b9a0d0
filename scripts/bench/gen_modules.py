#!/usr/bin/env python3
"""Generate N realistic, valid Open ENT modules for benchmarking `oent lint`.

Usage: gen_modules.py DIR [N] [--seed SEED]

Writes DIR/modules/openent/mod-XXXX/{module.yaml,templates/*.tera} for
XXXX = 0000 .. N-1. The output is deterministic for a given (N, SEED): the
same files, byte for byte, on every run and every machine.

Each module has 8 to 15 typed config options (always an integer with bounds,
an enum, a url, a duration with bounds, a boolean, a list of hostnames and a
required secret, plus a random mix of the other types), `requires` on
lower-numbered modules (so the graph is acyclic), `optional` deps driven by
`features`, sometimes a `conflicts`, `provides`, a `service`, a `repository`
and two Tera templates: one rendered once, one per établissement.

Only the standard library is used.
"""

import argparse
import os
import random
import sys

NAMESPACE = "openent"

LICENCES = [
    "CECILL-2.1", "CECILL-2.1", "CECILL-2.1", "CECILL-B",
    "AGPL-3.0-only", "AGPL-3.0-or-later", "EUPL-1.2", "MIT",
    "Apache-2.0", "MIT OR Apache-2.0", "GPL-3.0-or-later",
    "GPL-2.0-only WITH Classpath-exception-2.0", "LGPL-2.1-or-later",
    "MPL-2.0", "LicenseRef-collectivite-1",
]
CATEGORIES = ["socle", "pedagogie", "vie-scolaire", "communication", "externe"]
AUDIENCES = ["eleve", "parent", "enseignant", "direction", "personnel",
             "collectivite", "entreprise"]
SUBJECTS = [
    "Cahier de textes", "Notes et absences", "Messagerie", "Emploi du temps",
    "Ressources numériques", "Espace documentaire", "Agenda partagé",
    "Réservation de salles", "Casier numérique", "Annuaire", "Blog d'établissement",
    "Forum", "Carnet de liaison", "Orientation", "Restauration scolaire",
    "Visioconférence", "Exercices en ligne", "Portfolio", "Actualités", "Sondages",
]
SUMMARY_TAILS = [
    "pour les collèges et lycées", "intégré à l'ENT", "avec notifications",
    "partagé entre établissements", "accessible aux familles", "version académique",
]
CAPABILITIES = ["stockage", "notification", "recherche", "authentification",
                "export-pdf", "import-siecle", "agenda", "messagerie-interne"]
HOST_WORDS = ["smtp", "ldap", "cas", "proxy", "cache", "db", "s3", "mq", "search", "api"]
DOMAINS = ["monlycee.net", "ent.example.org", "ac-example.fr", "region.example.fr",
           "college.example.org"]
ENUMS = [
    ("log_level", ["error", "warn", "info", "debug"], "Niveau de journalisation"),
    ("mode", ["simple", "avance", "expert"], "Mode d'affichage"),
    ("stockage", ["local", "s3", "webdav"], "Type de stockage des pièces jointes"),
    ("tri", ["date", "nom", "matiere"], "Ordre de tri par défaut"),
    ("theme", ["clair", "sombre", "contraste"], "Thème de l'interface"),
    ("export", ["pdf", "odt", "csv"], "Format d'export"),
    ("authentification", ["cas", "oidc", "saml"], "Protocole d'authentification"),
]
INTEGERS = [
    ("retention_days", 30, 3650, "Durée de conservation (jours)"),
    ("max_upload_mo", 1, 2048, "Taille maximale d'un envoi (Mo)"),
    ("workers", 1, 64, "Nombre de processus de travail"),
    ("quota_mo", 10, 100000, "Quota par utilisateur (Mo)"),
    ("taille_page", 10, 500, "Éléments par page"),
    ("pool_connexions", 2, 200, "Connexions à la base"),
    ("tentatives", 1, 10, "Nombre de tentatives"),
]
DURATIONS = [
    ("delai_session", ("15m", "1d"), ["30m", "1h", "1h30m", "2h", "8h"], "Durée d'une session"),
    ("timeout", ("1s", "5m"), ["10s", "30s", "1m", "2m"], "Délai d'attente des requêtes"),
    ("intervalle_sync", ("1m", "7d"), ["5m", "15m", "1h", "1d"], "Intervalle de synchronisation"),
    ("cache_ttl", ("0s", "1d"), ["30s", "5m", "1h"], "Durée de vie du cache"),
]
BOOLEANS = [
    ("visible_parents", "Les parents voient le service"),
    ("notifications", "Envoi de notifications"),
    ("mode_maintenance", "Service en maintenance"),
    ("pieces_jointes", "Autoriser les pièces jointes"),
    ("archivage", "Archivage en fin d'année"),
    ("acces_invite", "Accès des invités"),
]
URLS = [
    ("url_aide", "https://aide.example.org/{slug}", "Adresse de l'aide en ligne"),
    ("url_publique", "https://{slug}.example.org", "Adresse publique du service"),
    ("url_webhook", "https://hooks.example.org/{slug}/notify", "Adresse du webhook"),
    ("url_cgu", "https://ent.example.org/cgu/{slug}", "Conditions d'utilisation"),
]
HOSTLISTS = [
    ("hotes_autorises", "Hôtes autorisés à appeler l'API"),
    ("relais_smtp", "Relais SMTP, par ordre de préférence"),
    ("serveurs_ldap", "Serveurs LDAP de l'annuaire"),
    ("no_proxy", "Hôtes joints sans passer par le proxy"),
]
SECRETS = [
    ("smtp_password", "Mot de passe du relais SMTP"),
    ("api_token", "Jeton d'accès à l'API"),
    ("db_password", "Mot de passe de la base"),
    ("client_secret", "Secret du client OIDC"),
]
STRINGS = [
    ("titre", "Titre affiché"), ("bandeau", "Texte du bandeau"),
    ("prefixe", "Préfixe des identifiants"), ("signature", "Signature des courriels"),
]
NUMBERS = [("taux_alerte", 0, 1, "Seuil d'alerte (0 à 1)"),
           ("coefficient", 0, 10, "Coefficient par défaut")]
EMAILS = [("contact_support", "Adresse du support"), ("expediteur", "Adresse d'expédition")]
LIST_STRINGS = [("matieres", ["francais", "mathematiques", "histoire", "anglais"], "Matières proposées"),
                ("classes", ["6e", "5e", "4e", "3e"], "Niveaux concernés")]
MAPS = [("quotas_mo", "Quota par profil (Mo)"), ("limites", "Limites par profil")]

UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def uai(rng):
    num = rng.randint(100000, 9799999)
    return f"{num:07d}{UAI_LETTERS[num % 23]}"


def q(s):
    """A double-quoted YAML scalar (our strings never hold `"` or `\\`)."""
    assert '"' not in s and "\\" not in s
    return f'"{s}"'


def pick(rng, pool, used):
    """Picks a (name, ...) entry whose name is not used yet; suffixes if needed."""
    entry = rng.choice(pool)
    name, n = entry[0], 2
    while name in used:
        name = f"{entry[0]}_{n}"
        n += 1
    used.add(name)
    return (name,) + tuple(entry[1:])


def make_option(rng, kind, used, slug):
    """Returns (name, kind, yaml_flow_text, scope_etab)."""
    scope_etab = False
    if kind == "integer":
        name, lo, hi, doc = pick(rng, INTEGERS, used)
        default = rng.randint(lo, min(hi, lo * 20 + 50))
        text = f"{{ type: integer, default: {default}, min: {lo}, max: {hi}, doc: {q(doc)} }}"
    elif kind == "enum":
        name, values, doc = pick(rng, ENUMS, used)
        scope_etab = rng.random() < 0.4
        text = (f"{{ type: enum, values: [{', '.join(values)}], default: {rng.choice(values)}"
                + (", scope: etablissement" if scope_etab else "") + f", doc: {q(doc)} }}")
    elif kind == "url":
        name, pattern, doc = pick(rng, URLS, used)
        text = f"{{ type: url, default: {q(pattern.format(slug=slug))}, doc: {q(doc)} }}"
    elif kind == "duration":
        name, (lo, hi), defaults, doc = pick(rng, DURATIONS, used)
        text = (f"{{ type: duration, default: {rng.choice(defaults)}, min: {lo}, max: {hi}, "
                f"doc: {q(doc)} }}")
    elif kind == "boolean":
        name, doc = pick(rng, BOOLEANS, used)
        scope_etab = rng.random() < 0.5
        text = (f"{{ type: boolean, default: {rng.choice(['true', 'false'])}"
                + (", scope: etablissement" if scope_etab else "") + f", doc: {q(doc)} }}")
    elif kind == "hostlist":
        name, doc = pick(rng, HOSTLISTS, used)
        hosts = [f"{rng.choice(HOST_WORDS)}{k + 1}.{rng.choice(DOMAINS)}"
                 for k in range(rng.randint(1, 3))]
        text = (f"{{ type: list, items: hostname, default: [{', '.join(hosts)}], min: 1, "
                f"max: 10, doc: {q(doc)} }}")
    elif kind == "secret":
        name, doc = pick(rng, SECRETS, used)
        text = f"{{ type: secret, required: true, doc: {q(doc)} }}"
    elif kind == "string":
        name, doc = pick(rng, STRINGS, used)
        text = f"{{ type: string, default: {q(doc + ' ' + slug)}, min: 1, max: 120, doc: {q(doc)} }}"
    elif kind == "number":
        name, lo, hi, doc = pick(rng, NUMBERS, used)
        default = round(rng.uniform(lo, hi), 2)
        text = f"{{ type: number, default: {default}, min: {lo}, max: {hi}, doc: {q(doc)} }}"
    elif kind == "email":
        name, doc = pick(rng, EMAILS, used)
        if rng.random() < 0.5:
            text = f"{{ type: email, required: true, doc: {q(doc)} }}"
        else:
            text = f"{{ type: email, default: {slug}@{rng.choice(DOMAINS)}, doc: {q(doc)} }}"
    elif kind == "liststring":
        name, values, doc = pick(rng, LIST_STRINGS, used)
        chosen = values[: rng.randint(1, len(values))]
        text = (f"{{ type: list, items: string, default: [{', '.join(q(v) for v in chosen)}], "
                f"min: 1, doc: {q(doc)} }}")
    elif kind == "map":
        name, doc = pick(rng, MAPS, used)
        entries = ", ".join(f"{a}: {rng.randint(10, 5000)}"
                            for a in rng.sample(AUDIENCES[:5], rng.randint(1, 3)))
        text = f"{{ type: map, items: integer, default: {{ {entries} }}, doc: {q(doc)} }}"
    elif kind == "uai":
        name, doc = pick(rng, [("etab_pilote", "Établissement pilote")], used)
        text = f"{{ type: uai, example: {q(uai(rng))}, doc: {q(doc)} }}"
    else:
        raise ValueError(kind)
    return name, kind, text, scope_etab


MANDATORY = ["integer", "enum", "url", "duration", "boolean", "hostlist", "secret"]
EXTRA = ["integer", "enum", "url", "duration", "boolean", "hostlist", "string", "number",
         "email", "liststring", "map", "uai", "secret"]


def version_of(rng):
    v = f"{rng.choice([0, 1, 1, 2, 2, 3, 4, 2026])}.{rng.randint(0, 12)}.{rng.randint(0, 30)}"
    r = rng.random()
    if r < 0.04:
        v += f"-rc.{rng.randint(1, 4)}"
    elif r < 0.07:
        v += f"+build.{rng.randint(1, 99)}"
    return v


def requirement_for(rng, version):
    """A cargo-style requirement that the given version satisfies."""
    core = version.split("+")[0].split("-")[0]
    a, b, c = (int(x) for x in core.split("."))
    if "-" in version.split("+")[0]:
        return f"={version.split('+')[0]}"  # pre-releases only match exactly
    forms = [f"^{a}.{b}", f"~{a}.{b}.{c}", f">={a}.{b}, <{a + 1}", "*", f"={a}.{b}.{c}",
             f"{a}.*", f"{a}.{b}"]
    return rng.choice(forms)


def app_template(rng, m):
    """The template rendered once per deployment (~20-40 lines)."""
    L = []
    # Tera comments stay ASCII: oent (template_vars::find_close) panics on a
    # multi-byte character inside `{# #}`; see scripts/bench/README.md.
    L.append("{# Configuration generale de " + m["name"] + " - genere par oent #}")
    L.append("# {{ module.name }} {{ module.version }} ({{ module.licence }})")
    L.append("# {{ module.summary }}")
    L.append("application.name = {{ module.slug }}")
    L.append("application.url = https://{{ settings.domaine }}{{ module.service.path }}")
    L.append("application.port = {{ module.service.port }}")
    L.append("application.langue = {{ settings.langue }}")
    L.append("application.fuseau = {{ settings.fuseau_horaire }}")
    L.append("")
    for name, kind, _text, _scope in m["options"]:
        key = f"{m['short']}.{name.replace('_', '.')}"
        if kind == "secret":
            L.append(f'{key} = {{{{ "${{" ~ config.{name}.env ~ "}}" }}}}')
        elif kind in ("hostlist", "liststring"):
            L.append(f"{key} = {{% for h in config.{name} %}}{{{{ h }}}}"
                     "{% if not loop.last %},{% endif %}{% endfor %}")
        elif kind == "map":
            L.append(f"{key}.count = {{{{ config.{name} | length }}}}")
        elif kind == "uai":
            L.append(f"{{% if config.{name} is defined %}}{key} = {{{{ config.{name} }}}}{{% endif %}}")
        elif kind == "email":
            L.append(f"{key} = {{{{ config.{name} | lower }}}}")
        else:
            L.append(f"{key} = {{{{ config.{name} }}}}")
    L.append("")
    if m["requires"]:
        L.append("# Dépendances")
        for dep in m["requires"]:
            L.append(f'dep.{dep.split("/")[1]}.url = http://{{{{ modules["{dep}"].slug }}}}:'
                     f'{{{{ modules["{dep}"].service.port }}}}')
    L.append("{% if settings.smtp is defined %}")
    L.append("mail.host = {{ settings.smtp.host }}")
    L.append("mail.port = {{ settings.smtp.port }}")
    L.append("{% endif %}")
    L.append("# {{ etablissements | length }} établissements servis par {{ collectivite.nom }}")
    L.append("{% for e in etablissements %}")
    L.append("etab.{{ loop.index }} = {{ e.uai }};{{ e.nom }};{{ e.commune }}")
    L.append("{% endfor %}")
    return "\n".join(L) + "\n"


def etab_template(rng, m):
    """The template rendered once per établissement (~20-40 lines)."""
    scoped = [o for o in m["options"] if o[3]]
    plain = [o for o in m["options"] if not o[3] and o[1] in ("integer", "boolean", "duration", "enum")]
    L = []
    L.append("{# Fiche " + m["short"] + " d'un etablissement #}")
    L.append("{")
    L.append('  "module": "{{ module.name }}",')
    L.append('  "version": "{{ module.version }}",')
    L.append('  "uai": "{{ etab.uai }}",')
    L.append('  "nom": "{{ etab.nom }}",')
    L.append('  "type": "{{ etab.type }}",')
    L.append('  "commune": "{{ etab.commune }}",')
    L.append('  "departement": "{{ etab.departement }}",')
    L.append('  "secteur": "{{ etab.secteur }}",')
    L.append('  "url": "https://{{ settings.domaine }}/{{ etab.uai | lower }}/{{ module.short_name }}",')
    L.append('  "distribution": "{{ distribution.name }}@{{ distribution.version }}",')
    L.append('  "options": {')
    fields = []
    for name, kind, _t, _s in scoped + plain:
        if kind in ("integer", "boolean"):
            fields.append(f'    "{name}": {{{{ config.{name} }}}}')
        else:
            fields.append(f'    "{name}": "{{{{ config.{name} }}}}"')
    L.append(",\n".join(fields))
    L.append("  },")
    L.append('  "voisins": [')
    L.append("{%- for e in etablissements %}")
    L.append("{%- if e.uai != etab.uai and e.commune == etab.commune %}")
    L.append('    { "uai": "{{ e.uai }}", "nom": "{{ e.nom | title }}" },')
    L.append("{%- endif %}")
    L.append("{%- endfor %}")
    L.append("    null")
    L.append("  ],")
    L.append("{% set sso = module.login is defined %}")
    L.append('  "sso": {{ sso }},')
    L.append('{%- if settings.contact is defined %}')
    L.append('  "contact": "{{ settings.contact }}",')
    L.append('{%- endif %}')
    L.append('  "audiences": {{ module.audiences | length }}')
    L.append("}")
    return "\n".join(L) + "\n"


def generate_module(rng, i, versions, n):
    short = f"mod-{i:04d}"
    name = f"{NAMESPACE}/{short}"
    version = versions[i]
    m = {"name": name, "short": short}

    # Dependencies: requires on lower-numbered modules only (acyclic), optional anywhere.
    requires = sorted(rng.sample(range(i), min(i, rng.randint(0, 3))))
    others = [j for j in range(n) if j != i and j not in requires]
    optional = sorted(rng.sample(others, min(len(others), rng.randint(0, 2))))
    m["requires"] = [f"{NAMESPACE}/mod-{j:04d}" for j in requires]

    used = set()
    kinds = MANDATORY + [rng.choice(EXTRA) for _ in range(rng.randint(1, 8))]
    rng.shuffle(kinds)
    m["options"] = [make_option(rng, k, used, short) for k in kinds]

    audiences = rng.sample(AUDIENCES, rng.randint(1, 4))
    subject = rng.choice(SUBJECTS)
    out = []
    w = out.append
    w("# yaml-language-server: $schema=../../../manifests/module.schema.json")
    w(f"# Module {name}, généré pour le banc d'essai de oent lint.")
    w("schema: oent/module/v1")
    w(f"name: {name}")
    w(f"version: {version}")
    w(f"licence: {rng.choice(LICENCES)}")
    w(f"summary: {q(subject + ' ' + rng.choice(SUMMARY_TAILS) + ' (' + short + ')')}")
    w("description: |")
    w(f"  {subject} pour l'ENT Open ENT : module {short}.")
    w("  Configuration typée, gabarits par établissement et service conteneurisé.")
    w(f"category: {rng.choice(CATEGORIES)}")
    w(f"audiences: [{', '.join(audiences)}]")
    if rng.random() < 0.8:
        w(f"repository: https://forge.example.org/{name}.git")
    else:
        w(f"repository: git@forge.example.org:{name}.git")
    if rng.random() < 0.5:
        w(f"homepage: https://openent.example.org/modules/{short}")
    w(f'authors: ["Association Open ENT", {q("Équipe " + short)}]')
    w("")
    if requires:
        w("requires:")
        for j in requires:
            w(f"  {NAMESPACE}/mod-{j:04d}: {q(requirement_for(rng, versions[j]))}")
    if optional:
        w("optional:")
        for j in optional:
            w(f"  {NAMESPACE}/mod-{j:04d}: {q(requirement_for(rng, versions[j]))}")
    if rng.random() < 0.15:
        w("conflicts:")
        w(f"  {NAMESPACE}/{short}-legacy: \"*\"")
    provides = [f"capacite-{i:04d}"] + rng.sample(CAPABILITIES, rng.randint(0, 2))
    w(f"provides: [{', '.join(provides)}]")
    if optional:
        w("features:")
        for k, j in enumerate(optional):
            w(f"  option-{k + 1}: [{NAMESPACE}/mod-{j:04d}]")
    w("")
    w("config:")
    width = max(len(o[0]) for o in m["options"]) + 1
    for oname, _kind, text, _scope in m["options"]:
        w(f"  {(oname + ':').ljust(width)} {text}")
    w("")
    w("templates:")
    w(f"  - {{ source: templates/app.conf.tera, target: \"conf/{{{{ module.slug }}}}/app.conf\" }}")
    w(f"  - {{ source: templates/etab.json.tera, "
      f"target: \"conf/{{{{ module.slug }}}}/{{{{ etab.uai }}}}.json\", each: etablissement }}")
    w("")
    w("service:")
    w(f"  image: registry.example.org/{name}:{version.replace('+', '_')}")
    w(f"  port: {rng.choice([8080, 8000, 3000, 9000, rng.randint(1024, 65535)])}")
    w("  health: /healthz")
    w(f"  path: /{short}")
    module_yaml = "\n".join(out) + "\n"
    return short, module_yaml, app_template(rng, m), etab_template(rng, m)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", help="output directory (modules go to DIR/modules/openent/)")
    ap.add_argument("n", nargs="?", type=int, default=1000, help="number of modules (default 1000)")
    ap.add_argument("--seed", type=int, default=20260101, help="random seed (default 20260101)")
    args = ap.parse_args(argv)
    if not 1 <= args.n <= 10000:
        ap.error("N must be between 1 and 10000 (names are mod-0000 .. mod-9999)")

    rng = random.Random(args.seed)
    versions = [version_of(rng) for _ in range(args.n)]
    base = os.path.join(args.dir, "modules", NAMESPACE)
    total_bytes = total_lines = 0
    for i in range(args.n):
        # One generator per module: a module's content depends only on (seed, i, N).
        mrng = random.Random(f"{args.seed}:{i}")
        short, module_yaml, app, etab = generate_module(mrng, i, versions, args.n)
        mdir = os.path.join(base, short)
        os.makedirs(os.path.join(mdir, "templates"), exist_ok=True)
        for rel, text in (("module.yaml", module_yaml),
                          ("templates/app.conf.tera", app),
                          ("templates/etab.json.tera", etab)):
            data = text.encode("utf-8")
            with open(os.path.join(mdir, rel), "wb") as f:
                f.write(data)
            total_bytes += len(data)
            total_lines += text.count("\n")
    print(f"generated {args.n} modules ({3 * args.n} files, {total_lines} lines, "
          f"{total_bytes / 1024:.0f} KiB) under {base} (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
