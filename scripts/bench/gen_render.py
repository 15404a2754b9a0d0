#!/usr/bin/env python3
"""Generate the workload of `scripts/bench/render.sh` (issue 6): a registry of
modules with templates, and a distribution with many établissements.

    gen_render.py OUT [--etabs 732] [--modules 20] [--seed 1] [--oent PATH] [--no-registry]
                      [--etablissements CSV]

writes

    OUT/modules/bench/<name>/module.yaml        the modules (namespace `bench`)
    OUT/modules/bench/<name>/templates/*.tera   app.conf.tera (rendered once),
                                                etab.json.tera (each: etablissement)
    OUT/registry/                               `oent registry init` + `oent registry build`
    OUT/dist/distribution.yaml                  every module, settings, overrides, target compose
    OUT/dist/etablissements.csv                 --etabs établissements of the académie de Nantes,
                                                or a copy of --etablissements CSV (the country
                                                of gen_france.py: scripts/bench/france.sh)

Deterministic: the same arguments give the same bytes (the registry's
archives are deterministic too, see docs/registry.md). Standard library only.

Each module has 8 typed options (string, integer with bounds, number, boolean,
enum `mode` with `scope: etablissement`, list of strings, url, duration with
bounds) plus a required `secret` for every other module, a `service`, and two
templates of 30-60 lines reading module.*, config.*, settings.*, distribution.*,
collectivite.*, modules["bench/socle"], etablissements and (per établissement)
etab.*, with `for` loops over small lists, `if`/`elif`, `loop.index`,
`loop.last`, `| lower`, `| upper`, `| length` and `~`.

The templates keep to syntax that Tera 2 and Jinja2 parse and render alike
(jinja_render.py renders them with Jinja2): no boolean or list is printed
directly (Jinja2 writes `True`, Tera `true`), no float with an integral value
(`3.0`), no map iteration, no filter with arguments, parentheses around a
filtered operand of `~`. Template comments stay ASCII (the `find_close` panic
of scripts/bench/README.md).
"""

import argparse
import csv
import os
import random
import subprocess
import sys

NAMESPACE = "bench"
UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"

# (short name, summary, category, audiences)
MODULES = [
    ("socle", "Socle de l'ENT : configuration commune, journaux et supervision", "socle", ["personnel", "direction"]),
    ("annuaire", "Annuaire des comptes alimenté par les imports de l'académie", "socle", ["personnel", "direction"]),
    ("portail", "Portail d'accueil par profil avec les services présents", "socle", ["eleve", "parent", "enseignant", "direction"]),
    ("sso", "Authentification unique pour tous les services de l'ENT", "socle", ["eleve", "parent", "enseignant", "personnel"]),
    ("cahier-de-textes", "Cahier de textes numérique : séances et travail à faire", "pedagogie", ["eleve", "parent", "enseignant"]),
    ("notes", "Notes, compétences et bulletins", "vie-scolaire", ["eleve", "parent", "enseignant", "direction"]),
    ("absences", "Absences qualifiées, retards et sanctions", "vie-scolaire", ["parent", "enseignant", "direction"]),
    ("emploi-du-temps", "Emploi du temps des classes, des salles et des enseignants", "vie-scolaire", ["eleve", "parent", "enseignant"]),
    ("messagerie", "Messagerie interne de l'ENT", "communication", ["eleve", "parent", "enseignant", "personnel"]),
    ("documents", "Espace de stockage et de partage de documents", "pedagogie", ["eleve", "enseignant"]),
    ("agenda", "Agenda partagé de l'établissement", "communication", ["enseignant", "direction", "personnel"]),
    ("actualites", "Actualités de l'établissement et de la collectivité", "communication", ["eleve", "parent", "enseignant"]),
    ("blog", "Blogs de classe et d'établissement", "communication", ["eleve", "parent", "enseignant"]),
    ("forum", "Forums de discussion modérés", "communication", ["eleve", "enseignant"]),
    ("ressources", "Accès aux ressources numériques éducatives (GAR)", "externe", ["eleve", "enseignant"]),
    ("orientation", "Parcours d'orientation et stages", "pedagogie", ["eleve", "parent", "enseignant"]),
    ("restauration", "Restauration scolaire : menus et réservations", "vie-scolaire", ["eleve", "parent", "personnel"]),
    ("transport", "Transports scolaires : lignes et inscriptions", "externe", ["parent", "collectivite"]),
    ("sms-parents", "Avis d'absence envoyés par SMS aux familles", "vie-scolaire", ["parent", "direction"]),
    ("statistiques", "Statistiques d'usage pour la collectivité", "socle", ["direction", "collectivite"]),
]
# Short titles that the distribution gives the modules (`titre`).
TITLES = {
    "socle": "Socle", "annuaire": "Annuaire", "portail": "Portail", "sso": "Connexion unique",
    "cahier-de-textes": "Cahier de textes", "notes": "Notes et compétences",
    "absences": "Vie scolaire", "emploi-du-temps": "Emploi du temps",
    "messagerie": "Messagerie", "documents": "Mes documents", "agenda": "Agenda",
    "actualites": "Actualités", "blog": "Blogs", "forum": "Forums",
    "ressources": "Ressources numériques", "orientation": "Orientation",
    "restauration": "Restauration", "transport": "Transports scolaires",
    "sms-parents": "SMS aux familles", "statistiques": "Statistiques",
}
LICENCES = ["CECILL-2.1", "CECILL-2.1", "AGPL-3.0-only", "EUPL-1.2", "MIT OR Apache-2.0", "CECILL-B"]
ELEMENTS = [
    "francais", "mathematiques", "histoire-geographie", "anglais", "espagnol",
    "allemand", "svt", "physique-chimie", "technologie", "eps", "arts-plastiques",
    "education-musicale", "emc", "latin", "nsi", "ses",
]
DURATIONS = ["5m", "15m", "30m", "1h", "1h30m", "2h", "12h"]

# Académie de Nantes: département -> (share of the établissements, communes)
DEPARTEMENTS = {
    "44": (0.36, ["Nantes", "Saint-Nazaire", "Rezé", "Saint-Herblain", "Orvault", "Vertou",
                  "Carquefou", "La Baule-Escoublac", "Châteaubriant", "Ancenis-Saint-Géréon",
                  "Clisson", "Guérande", "Pornic", "Blain", "Machecoul-Saint-Même", "Savenay",
                  "Nort-sur-Erdre", "Bouguenais", "Sainte-Luce-sur-Loire", "Pornichet"]),
    "49": (0.24, ["Angers", "Cholet", "Saumur", "Avrillé", "Les Ponts-de-Cé", "Trélazé",
                  "Segré-en-Anjou Bleu", "Beaupréau-en-Mauges", "Chemillé-en-Anjou",
                  "Doué-en-Anjou", "Baugé-en-Anjou", "Saint-Barthélemy-d'Anjou", "Mûrs-Erigné",
                  "Chalonnes-sur-Loire"]),
    "53": (0.08, ["Laval", "Mayenne", "Château-Gontier-sur-Mayenne", "Évron", "Ernée", "Craon",
                  "Villaines-la-Juhel", "Gorron"]),
    "72": (0.15, ["Le Mans", "La Flèche", "Sablé-sur-Sarthe", "Allonnes", "Coulaines",
                  "La Ferté-Bernard", "Mamers", "Montval-sur-Loir", "Saint-Calais", "Écommoy",
                  "Sillé-le-Guillaume"]),
    "85": (0.17, ["La Roche-sur-Yon", "Les Sables-d'Olonne", "Challans", "Fontenay-le-Comte",
                  "Les Herbiers", "Montaigu-Vendée", "Luçon", "Saint-Gilles-Croix-de-Vie",
                  "Chantonnay", "Pouzauges", "Aizenay", "Saint-Jean-de-Monts"]),
}
# type -> (weight, name prefix)
TYPES = [
    ("college", 0.64, "Collège"),
    ("lycee", 0.17, "Lycée"),
    ("lycee-pro", 0.13, "Lycée professionnel"),
    ("cite-scolaire", 0.04, "Cité scolaire"),
    ("erea", 0.02, "EREA"),
]
PUBLIC_NAMES = [
    "Jules-Verne", "Victor-Hugo", "Jean-Moulin", "Anne-de-Bretagne", "Aristide-Briand",
    "Gabriel-Guist'hau", "Jean-Monnet", "Pierre-Mendès-France", "Georges-Clemenceau",
    "Honoré-de-Balzac", "René-Guy-Cadou", "Paul-Doumer", "Louis-Pasteur", "Joachim-du-Bellay",
    "Françoise-Dolto", "Simone-Veil", "Albert-Camus", "Jacques-Prévert", "Marie-Curie",
    "Olympe-de-Gouges", "Jean-Rostand", "David-d'Angers", "Chevrollier", "Bergson",
    "Ambroise-Paré", "Réaumur", "Douanier-Rousseau", "Pierre-Mauger", "Les Sables-Rouges",
    "La Colinière", "Le Grand-Beauregard", "Charles-Milcendeau",
]
PRIVATE_NAMES = [
    "Saint-Joseph", "Notre-Dame", "Sainte-Marie", "Saint-Louis", "Saint-Stanislas",
    "La Salle", "Saint-Gabriel", "Jeanne-d'Arc", "Immaculée-Conception", "Sacré-Cœur",
    "Saint-Martin", "Sainte-Ursule", "Saint-Jacques-de-Compostelle", "L'Espérance",
]


def uai(number7):
    return f"{number7:07d}{UAI_LETTERS[number7 % 23]}"


def weighted(rng, pairs):
    """pairs: [(value, weight)]"""
    x = rng.random() * sum(w for _, w in pairs)
    for value, w in pairs:
        x -= w
        if x < 0:
            return value
    return pairs[-1][0]


# Used only when the académie's five départements are nearly full (a UAI
# has 4 digits after the département: 9,999 per département), for the
# scale runs of render.sh (SCALE_ETABS, up to 50,000 établissements).
EXTRA_DEPARTEMENTS = {
    "22": ["Saint-Brieuc", "Lannion"], "29": ["Brest", "Quimper"], "35": ["Rennes", "Saint-Malo"],
    "56": ["Vannes", "Lorient"], "79": ["Niort", "Bressuire"], "86": ["Poitiers", "Châtellerault"],
    "37": ["Tours", "Amboise"], "41": ["Blois", "Vendôme"],
}
DEPARTEMENT_FULL = 9000


def etablissements(rng, count):
    rows = []
    seen = set()
    depts = [(d, share) for d, (share, _) in DEPARTEMENTS.items()]
    per_dept = {}
    for _ in range(count):
        dept = weighted(rng, depts)
        # Same draws as before while no département is full (same output up to ~14,000).
        if per_dept.get(dept, 0) >= DEPARTEMENT_FULL:
            open_depts = [d for d in list(DEPARTEMENTS) + list(EXTRA_DEPARTEMENTS) if per_dept.get(d, 0) < DEPARTEMENT_FULL]
            dept = rng.choice(open_depts)
        per_dept[dept] = per_dept.get(dept, 0) + 1
        while True:
            n = int(dept) * 10000 + rng.randrange(1, 10000)
            if n not in seen:
                seen.add(n)
                break
        kind, prefix = weighted(rng, [((t, p), w) for t, w, p in TYPES])
        secteur = "prive" if kind != "erea" and rng.random() < 0.38 else "public"
        commune = rng.choice(DEPARTEMENTS[dept][1] if dept in DEPARTEMENTS else EXTRA_DEPARTEMENTS[dept])
        if secteur == "prive":
            nom = f"{prefix} privé {rng.choice(PRIVATE_NAMES)}"
        else:
            nom = f"{prefix} {rng.choice(PUBLIC_NAMES)}"
        r = rng.random()
        if r < 0.04:
            nom += ", site annexe"  # a comma: quoted in the CSV
        elif r < 0.12:
            nom += f" de {commune}"
        rows.append({"uai": uai(n), "nom": nom, "type": kind, "commune": commune,
                     "departement": dept, "secteur": secteur})
    rows.sort(key=lambda e: e["uai"])
    return rows


def csv_field(s):
    if any(c in s for c in ',"\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def yq(s):
    """A YAML double-quoted scalar (valid in YAML 1.1 and 1.2)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def module_names(n):
    out = []
    for i in range(n):
        short, summary, category, audiences = MODULES[i % len(MODULES)]
        if i >= len(MODULES):
            short = f"{short}-{i // len(MODULES) + 1}"
        out.append((short, summary, category, audiences))
    return out


# --- templates -----------------------------------------------------------------

def once_template(rng, i, has_secret):
    """Rendered once per module: a properties file (~35-50 lines)."""
    t = []
    t.append("# {{ module.name }} {{ module.version }} - {{ collectivite.nom }}")
    t.append("# {{ module.summary }}")
    t.append("# distribution {{ distribution.name }} {{ distribution.version }} (cible {{ distribution.target }})")
    t.append("module.name={{ module.name }}")
    t.append("module.slug={{ module.slug }}")
    t.append("module.short_name={{ module.short_name }}")
    t.append("module.licence={{ module.licence }}")
    t.append("module.categorie={{ module.category | upper }}")
    t.append("module.publics={% for a in module.audiences %}{{ a }}{% if not loop.last %},{% endif %}{% endfor %}")
    t.append("module.depot={{ module.repository }}")
    t.append("server.image={{ module.service.image }}")
    t.append("server.port={{ module.service.port }}")
    t.append("server.path={{ module.service.path }}")
    t.append("server.health={{ module.service.health }}")
    t.append("ent.domaine={{ settings.domaine }}")
    t.append("ent.url={{ \"https://\" ~ settings.domaine ~ module.service.path }}")
    t.append("ent.langue={{ settings.langue }}")
    t.append("ent.fuseau={{ settings.fuseau_horaire }}")
    t.append("{% if settings.contact is defined %}ent.contact={{ settings.contact }}")
    t.append("{% endif %}{% if settings.smtp is defined %}smtp.host={{ settings.smtp.host }}")
    t.append("smtp.port={{ settings.smtp.port }}")
    t.append("smtp.from={{ settings.smtp.from }}")
    t.append("{% endif %}{% if module.login is defined %}sso.type={{ module.login.protocol | upper }}")
    t.append("sso.url={{ module.login.url }}")
    t.append("{% endif %}app.titre={{ config.titre }}")
    t.append("app.quota_mo={{ config.quota_mo }}")
    t.append("app.seuil={{ config.seuil }}")
    t.append("app.actif={% if config.actif %}oui{% else %}non{% endif %}")
    t.append("app.mode={{ config.mode }}")
    t.append("app.aide={{ config.url_aide }}")
    t.append("app.delai={{ config.delai }}")
    if has_secret:
        t.append("app.cle_api={{ \"${\" ~ config.cle_api.env ~ \"}\" }}")
    t.append("app.elements.nombre={{ config.elements | length }}")
    t.append("{% for x in config.elements %}app.elements.{{ loop.index }}={{ x }}")
    t.append("{% endfor %}socle.url=http://{{ modules[\"bench/socle\"].slug }}:{{ modules[\"bench/socle\"].service.port }}{{ modules[\"bench/socle\"].service.path }}")
    t.append("socle.version={{ modules[\"bench/socle\"].version }}")
    if i >= 2 and rng.random() < 0.5:
        t.append("annuaire.url=http://{{ modules[\"bench/annuaire\"].slug }}:{{ modules[\"bench/annuaire\"].service.port }}")
    t.append("etablissements.nombre={{ etablissements | length }}")
    t.append("{% for e in etablissements %}etablissement.{{ e.uai | lower }}={{ e.nom }};{{ e.type }};{{ e.commune }};{{ e.departement }}{% if e.secteur == \"prive\" %};prive{% endif %}")
    t.append("{% endfor %}# fin")
    return "\n".join(t) + "\n"


def etab_template(rng, i, has_secret):
    """Rendered once per établissement: a JSON file (~40-50 lines)."""
    t = []
    t.append("{")
    t.append("  \"uai\": \"{{ etab.uai }}\",")
    t.append("  \"nom\": \"{{ etab.nom }}\",")
    t.append("  \"nom_court\": \"{{ etab.nom | upper }}\",")
    t.append("  \"type\": \"{{ etab.type }}\",")
    t.append("  \"commune\": \"{{ etab.commune }}\",")
    t.append("  \"departement\": \"{{ etab.departement }}\",")
    t.append("  \"secteur\": \"{{ etab.secteur }}\",")
    t.append("  \"hote\": \"{{ etab.uai | lower }}.{{ settings.domaine }}\",")
    t.append("  \"url\": \"{{ \"https://\" ~ settings.domaine ~ module.service.path ~ \"/\" ~ (etab.uai | lower) }}\",")
    t.append("  \"module\": { \"nom\": \"{{ module.name }}\", \"version\": \"{{ module.version }}\", \"slug\": \"{{ module.slug }}\" },")
    t.append("  \"collectivite\": \"{{ collectivite.nom }}\",")
    t.append("  \"distribution\": \"{{ distribution.name ~ \"@\" ~ distribution.version }}\",")
    t.append("  \"titre\": \"{{ config.titre }} - {{ etab.nom }}\",")
    t.append("  \"mode\": \"{{ config.mode }}\",")
    t.append("  \"mode_libelle\": \"{{ config.mode | upper }}\",")
    t.append("{% if config.mode == \"expert\" %}  \"options_expert\": true,")
    t.append("{% elif config.mode == \"avance\" %}  \"options_avancees\": true,")
    t.append("{% endif %}  \"quota_mo\": {{ config.quota_mo }},")
    t.append("  \"seuil\": {{ config.seuil }},")
    t.append("  \"actif\": {% if config.actif %}true{% else %}false{% endif %},")
    t.append("  \"delai\": \"{{ config.delai }}\",")
    t.append("  \"aide\": \"{{ config.url_aide }}\",")
    if has_secret:
        t.append("  \"cle_api\": \"{{ \"${\" ~ config.cle_api.env ~ \"}\" }}\",")
    t.append("  \"elements\": [")
    t.append("{%- for x in config.elements %}")
    t.append("    { \"rang\": {{ loop.index }}, \"code\": \"{{ x | upper }}\", \"id\": \"{{ (etab.uai | lower) ~ \"-\" ~ x }}\" }{% if not loop.last %},{% endif %}")
    t.append("{%- endfor %}")
    t.append("  ],")
    t.append("{% if etab.type == \"lycee\" or etab.type == \"lycee-pro\" %}  \"niveaux\": [\"seconde\", \"premiere\", \"terminale\"],")
    t.append("{% elif etab.type == \"college\" %}  \"niveaux\": [\"6e\", \"5e\", \"4e\", \"3e\"],")
    t.append("{% elif etab.type == \"cite-scolaire\" %}  \"niveaux\": [\"6e\", \"5e\", \"4e\", \"3e\", \"seconde\", \"premiere\", \"terminale\"],")
    t.append("{% else %}  \"niveaux\": [],")
    t.append("{% endif %}  \"prive\": {% if etab.secteur == \"prive\" %}true{% else %}false{% endif %},")
    t.append("  \"publics\": [{% for a in module.audiences %}\"{{ a }}\"{% if not loop.last %}, {% endif %}{% endfor %}],")
    t.append("  \"socle\": \"http://{{ modules[\"bench/socle\"].slug }}:{{ modules[\"bench/socle\"].service.port }}\",")
    if i >= 2 and rng.random() < 0.5:
        t.append("  \"annuaire\": \"http://{{ modules[\"bench/annuaire\"].slug }}:{{ modules[\"bench/annuaire\"].service.port }}\",")
    t.append("{% if settings.smtp is defined %}  \"smtp\": \"{{ settings.smtp.host }}:{{ settings.smtp.port }}\",")
    t.append("  \"expediteur\": \"{{ settings.smtp.from }}\",")
    t.append("{% endif %}{% if module.login is defined %}  \"sso\": { \"type\": \"{{ module.login.protocol }}\", \"url\": \"{{ module.login.url }}\" },")
    t.append("{% endif %}  \"fuseau\": \"{{ settings.fuseau_horaire }}\",")
    t.append("  \"langue\": \"{{ settings.langue }}\",")
    t.append("  \"departement_siege\": {% if etab.departement == \"44\" %}true{% else %}false{% endif %},")
    t.append("  \"etablissements\": {{ etablissements | length }}")
    t.append("}")
    return "\n".join(t) + "\n"


# --- manifests -----------------------------------------------------------------

def module_yaml(rng, i, short, summary, category, audiences, has_secret):
    version = "1.4.2" if i == 0 else f"{rng.randint(1, 4)}.{rng.randint(0, 12)}.{rng.randint(0, 9)}"
    quota = rng.choice([100, 200, 500, 1000, 2048])
    seuil = rng.choice(["0.25", "0.5", "0.75", "0.8", "0.95"])
    elements = rng.sample(ELEMENTS, rng.randint(3, 5))
    delai = rng.choice(DURATIONS)
    each_target = rng.choice([
        "conf/{{ module.slug }}/etablissements/{{ etab.uai }}.json",
        "conf/{{ module.slug }}/{{ etab.uai | lower }}.json",
    ])
    lines = [
        "schema: oent/module/v1",
        f"name: {NAMESPACE}/{short}",
        f"version: {version}",
        f"licence: {rng.choice(LICENCES)}",
        f"summary: {yq(summary)}",
        f"category: {category}",
        f"audiences: [{', '.join(audiences)}]",
        f"repository: https://forge.e-lyco.fr/{NAMESPACE}/{short}.git",
    ]
    if i > 0:
        lines += ["requires:", f"  {NAMESPACE}/socle: \"^1.4\""]
        if i >= 2:
            lines.append(f"  {NAMESPACE}/annuaire: \"*\"")
    lines += [
        "config:",
        f"  titre: {{ type: string, default: {yq(summary[:60])}, min: 1, max: 80, doc: \"Titre affiché\" }}",
        f"  quota_mo: {{ type: integer, default: {quota}, min: 10, max: 100000, doc: \"Quota par utilisateur (Mo)\" }}",
        f"  seuil: {{ type: number, default: {seuil}, min: 0, max: 1, doc: \"Seuil d'alerte\" }}",
        "  actif: { type: boolean, default: true, doc: \"Service ouvert\" }",
        "  mode: { type: enum, values: [simple, avance, expert], default: simple, scope: etablissement, doc: \"Mode d'affichage\" }",
        f"  elements: {{ type: list, items: string, default: [{', '.join(elements)}], min: 1, doc: \"Disciplines\" }}",
        f"  url_aide: {{ type: url, default: \"https://aide.e-lyco.fr/{short}\", doc: \"Page d'aide\" }}",
        f"  delai: {{ type: duration, default: {delai}, min: 1m, max: 1d, doc: \"Délai de session\" }}",
    ]
    if has_secret:
        lines.append("  cle_api: { type: secret, required: true, doc: \"Clé d'API du service\" }")
    lines += [
        "templates:",
        "  - source: templates/app.conf.tera",
        "    target: \"conf/{{ module.slug }}/app.conf\"",
        "  - source: templates/etab.json.tera",
        f"    target: {yq(each_target)}",
        "    each: etablissement",
        "service:",
        f"  image: registry.e-lyco.fr/{NAMESPACE}/{short}:{version}",
        f"  port: {8000 + i}",
        "  health: /healthz",
        f"  path: /{short}",
    ]
    return "\n".join(lines) + "\n"


def distribution_yaml(rng, mods, etabs):
    lines = [
        "schema: oent/distribution/v1",
        "name: bench/e-lyco",
        "version: 2026.1.0",
        "collectivite: { nom: Académie de Nantes, type: academie }",
        "registries:",
        "  - { name: bench, path: ../registry }",
        "modules:",
    ]
    for i, (short, summary, _, _) in enumerate(mods):
        config = [f"titre: {yq(TITLES[short.rsplit('-', 1)[0] if short not in TITLES else short] + ' - e-lyco')}"]
        if rng.random() < 0.5:
            config.append(f"quota_mo: {rng.choice([250, 750, 1500, 4096])}")
        if rng.random() < 0.3:
            config.append(f"seuil: {rng.choice(['0.6', '0.7', '0.85'])}")
        if rng.random() < 0.2:
            config.append("actif: false")
        if i % 2 == 1:
            config.append(f"cle_api: {{ env: {short.upper().replace('-', '_')}_CLE_API }}")
        lines.append(f"  {NAMESPACE}/{short}: {{ version: \"*\", config: {{ {', '.join(config)} }} }}")
    lines += [
        "settings:",
        "  domaine: e-lyco.fr",
        "  smtp: { host: smtp.e-lyco.fr, from: ne-pas-repondre@e-lyco.fr }",
        "  contact: assistance@e-lyco.fr",
        "etablissements:",
        "  file: etablissements.csv",
        "  overrides:",
    ]
    # About one établissement in 8 sets `mode` for 1-3 modules.
    for e in etabs:
        if rng.random() < 0.125:
            chosen = sorted(rng.sample(range(len(mods)), rng.randint(1, 3)))
            parts = [f"{NAMESPACE}/{mods[j][0]}: {{ mode: {rng.choice(['avance', 'expert'])} }}" for j in chosen]
            lines.append(f"    \"{e['uai']}\": {{ {', '.join(parts)} }}")
    lines.append("target: compose")
    return "\n".join(lines) + "\n"


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--etabs", type=int, default=732)
    p.add_argument("--modules", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--oent", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "..", "..", "target", "release", "oent"))
    p.add_argument("--no-registry", action="store_true", help="write modules and dist only")
    p.add_argument("--etablissements", metavar="CSV",
                   help="these établissements (header uai,nom,type,commune,departement,secteur) instead of --etabs")
    args = p.parse_args()
    if args.modules < 2:
        sys.exit("gen_render.py: --modules must be at least 2 (socle and annuaire are read)")
    rng = random.Random(args.seed)
    out = args.out
    mods = module_names(args.modules)
    for i, (short, summary, category, audiences) in enumerate(mods):
        has_secret = i % 2 == 1
        mrng = random.Random(f"{args.seed}-{short}")
        base = os.path.join(out, "modules", NAMESPACE, short)
        write(os.path.join(base, "module.yaml"),
              module_yaml(mrng, i, short, summary, category, audiences, has_secret))
        write(os.path.join(base, "templates", "app.conf.tera"), once_template(mrng, i, has_secret))
        write(os.path.join(base, "templates", "etab.json.tera"), etab_template(mrng, i, has_secret))
    header = "uai,nom,type,commune,departement,secteur"
    if args.etablissements:
        with open(args.etablissements, encoding="utf-8", newline="") as f:
            etabs = list(csv.DictReader(f))
        if not etabs or list(etabs[0]) != header.split(","):
            sys.exit(f"gen_render.py: {args.etablissements}: expected the header {header}")
    else:
        etabs = etablissements(rng, args.etabs)
    rows = [",".join(csv_field(e[k]) for k in header.split(",")) for e in etabs]
    write(os.path.join(out, "dist", "etablissements.csv"), "\n".join([header] + rows) + "\n")
    write(os.path.join(out, "dist", "distribution.yaml"), distribution_yaml(rng, mods, etabs))

    if not args.no_registry:
        oent = os.path.abspath(args.oent)
        registry = os.path.join(out, "registry")
        if not os.path.exists(os.path.join(registry, "registry.yaml")):
            subprocess.run([oent, "registry", "init", registry, "--name", NAMESPACE,
                            "--namespace", NAMESPACE], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([oent, "registry", "build", os.path.join(out, "modules"), "--to", registry],
                       check=True, stdout=subprocess.DEVNULL)
    print(f"gen_render.py: {len(mods)} modules, {len(etabs)} établissements in {out}")


if __name__ == "__main__":
    main()
