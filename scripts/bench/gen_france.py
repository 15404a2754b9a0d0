#!/usr/bin/env python3
"""Generate the country-scale distribution of `scripts/bench/france.sh` (issue 19):
every collège and lycée of France, public and private, with the whole catalogue.

    gen_france.py OUT [--etabs 11000] [--seed 1] [--target compose|kubernetes]
                      [--registry PATH]

writes

    OUT/distribution.yaml     the 27 modules of the catalogue that go together
                              (`openent/lemonldap` rather than `sso` or `sso-cas`,
                              `messagerie-interne` rather than `messagerie`: each set
                              provides the same service), settings, a few overrides,
                              --target
    OUT/etablissements.csv    --etabs établissements (default: all of them, about 11,000)

The country (about 11,040 établissements, the order of magnitude of the
national directory): 5,260 collèges publics, 1,780 collèges privés, 1,550
lycées publics (général et technologique), 800 lycées professionnels
publics, 1,050 lycées privés, 600 lycées professionnels privés, ~80 EREA and
a few cités scolaires, spread over the 101 départements in proportion to
their population (Corsica 2A/2B and overseas 971-976 included). UAIs are well
formed (the département's prefix, see src/manifest/uai.rs, 4 digits, the
check letter of `number mod 23`); names and UAIs are ILLUSTRATIVE, not the
directory's. `--etabs N` keeps a deterministic sample of N (the same seed
gives the same sample, and a smaller sample is a prefix of a larger one's
draw), so that the curve 100 -> 11,000 measures the same kind of
établissements.

Deterministic: the same arguments give the same bytes. Standard library only.
"""

import argparse
import random
from pathlib import Path

from gen_render import uai as uai7  # the UAI check letter, as the render benchmark writes it

ROOT = Path(__file__).resolve().parents[2]

# (code, préfecture, population in thousands, académie), INSEE 2021 rounded.
DEPARTEMENTS = [
    ("01", "Bourg-en-Bresse", 657, "lyon"), ("02", "Laon", 529, "amiens"),
    ("03", "Moulins", 335, "clermont-ferrand"), ("04", "Digne-les-Bains", 165, "aix-marseille"),
    ("05", "Gap", 141, "aix-marseille"), ("06", "Nice", 1098, "nice"),
    ("07", "Privas", 329, "grenoble"), ("08", "Charleville-Mézières", 270, "reims"),
    ("09", "Foix", 154, "toulouse"), ("10", "Troyes", 310, "reims"),
    ("11", "Carcassonne", 375, "montpellier"), ("12", "Rodez", 279, "toulouse"),
    ("13", "Marseille", 2056, "aix-marseille"), ("14", "Caen", 697, "normandie"),
    ("15", "Aurillac", 144, "clermont-ferrand"), ("16", "Angoulême", 352, "poitiers"),
    ("17", "La Rochelle", 655, "poitiers"), ("18", "Bourges", 298, "orleans-tours"),
    ("19", "Tulle", 240, "limoges"), ("2A", "Ajaccio", 160, "corse"),
    ("2B", "Bastia", 183, "corse"), ("21", "Dijon", 535, "dijon"),
    ("22", "Saint-Brieuc", 601, "rennes"), ("23", "Guéret", 116, "limoges"),
    ("24", "Périgueux", 413, "bordeaux"), ("25", "Besançon", 543, "besancon"),
    ("26", "Valence", 520, "grenoble"), ("27", "Évreux", 599, "normandie"),
    ("28", "Chartres", 431, "orleans-tours"), ("29", "Quimper", 917, "rennes"),
    ("30", "Nîmes", 752, "montpellier"), ("31", "Toulouse", 1415, "toulouse"),
    ("32", "Auch", 191, "toulouse"), ("33", "Bordeaux", 1654, "bordeaux"),
    ("34", "Montpellier", 1190, "montpellier"), ("35", "Rennes", 1095, "rennes"),
    ("36", "Châteauroux", 217, "orleans-tours"), ("37", "Tours", 611, "orleans-tours"),
    ("38", "Grenoble", 1282, "grenoble"), ("39", "Lons-le-Saunier", 259, "besancon"),
    ("40", "Mont-de-Marsan", 417, "bordeaux"), ("41", "Blois", 329, "orleans-tours"),
    ("42", "Saint-Étienne", 766, "lyon"), ("43", "Le Puy-en-Velay", 228, "clermont-ferrand"),
    ("44", "Nantes", 1450, "nantes"), ("45", "Orléans", 682, "orleans-tours"),
    ("46", "Cahors", 174, "toulouse"), ("47", "Agen", 331, "bordeaux"),
    ("48", "Mende", 76, "montpellier"), ("49", "Angers", 820, "nantes"),
    ("50", "Saint-Lô", 491, "normandie"), ("51", "Châlons-en-Champagne", 566, "reims"),
    ("52", "Chaumont", 171, "reims"), ("53", "Laval", 307, "nantes"),
    ("54", "Nancy", 731, "nancy-metz"), ("55", "Bar-le-Duc", 181, "nancy-metz"),
    ("56", "Vannes", 763, "rennes"), ("57", "Metz", 1045, "nancy-metz"),
    ("58", "Nevers", 202, "dijon"), ("59", "Lille", 2608, "lille"),
    ("60", "Beauvais", 829, "amiens"), ("61", "Alençon", 277, "normandie"),
    ("62", "Arras", 1462, "lille"), ("63", "Clermont-Ferrand", 665, "clermont-ferrand"),
    ("64", "Pau", 687, "bordeaux"), ("65", "Tarbes", 229, "toulouse"),
    ("66", "Perpignan", 482, "montpellier"), ("67", "Strasbourg", 1141, "strasbourg"),
    ("68", "Colmar", 767, "strasbourg"), ("69", "Lyon", 1883, "lyon"),
    ("70", "Vesoul", 233, "besancon"), ("71", "Mâcon", 548, "dijon"),
    ("72", "Le Mans", 564, "nantes"), ("73", "Chambéry", 439, "grenoble"),
    ("74", "Annecy", 834, "grenoble"), ("75", "Paris", 2133, "paris"),
    ("76", "Rouen", 1254, "normandie"), ("77", "Melun", 1431, "creteil"),
    ("78", "Versailles", 1451, "versailles"), ("79", "Niort", 375, "poitiers"),
    ("80", "Amiens", 568, "amiens"), ("81", "Albi", 390, "toulouse"),
    ("82", "Montauban", 262, "toulouse"), ("83", "Toulon", 1085, "nice"),
    ("84", "Avignon", 562, "aix-marseille"), ("85", "La Roche-sur-Yon", 691, "nantes"),
    ("86", "Poitiers", 439, "poitiers"), ("87", "Limoges", 372, "limoges"),
    ("88", "Épinal", 361, "nancy-metz"), ("89", "Auxerre", 335, "dijon"),
    ("90", "Belfort", 141, "besancon"), ("91", "Évry-Courcouronnes", 1306, "versailles"),
    ("92", "Nanterre", 1624, "versailles"), ("93", "Bobigny", 1655, "creteil"),
    ("94", "Créteil", 1407, "creteil"), ("95", "Cergy", 1249, "versailles"),
    ("971", "Basse-Terre", 384, "guadeloupe"), ("972", "Fort-de-France", 361, "martinique"),
    ("973", "Cayenne", 286, "guyane"), ("974", "Saint-Denis", 868, "la-reunion"),
    ("975", "Saint-Pierre", 6, "guadeloupe"), ("976", "Mamoudzou", 310, "mayotte"),
]

# (type, secteur, count in the country, name prefix)
KINDS = [
    ("college", "public", 5260, "Collège"),
    ("college", "prive", 1780, "Collège privé"),
    ("lycee", "public", 1550, "Lycée"),
    ("lycee-pro", "public", 800, "Lycée professionnel"),
    ("lycee", "prive", 1050, "Lycée privé"),
    ("lycee-pro", "prive", 600, "Lycée professionnel privé"),
    ("erea", "public", 78, "EREA"),
    ("cite-scolaire", "public", 60, "Cité scolaire"),
]

PATRONS = [
    "Jean-Moulin", "Jules-Ferry", "Victor-Hugo", "Jean-Jaurès", "Louis-Pasteur", "Marie-Curie",
    "Jacques-Prévert", "Jean-Monnet", "Albert-Camus", "Paul-Éluard", "Simone-Veil",
    "Antoine-de-Saint-Exupéry", "Jean-de-la-Fontaine", "Pierre-et-Marie-Curie", "Voltaire",
    "Molière", "Condorcet", "Georges-Brassens", "Louise-Michel", "Gustave-Eiffel",
    "Olympe-de-Gouges", "Aimé-Césaire", "Joliot-Curie", "Jean-Rostand", "Émile-Zola",
    "Henri-Matisse", "Camille-Claudel", "Rosa-Parks", "Saint-Joseph", "Notre-Dame",
    "Sainte-Marie", "Saint-Exupéry", "Charles-de-Gaulle", "Léonard-de-Vinci", "Les Tilleuls",
]

# The catalogue, as it goes together: every module of registry/ but one of
# those that provide the same service: LemonLDAP::NG for the SSO (it serves CAS
# and OIDC, which the services ask for; Keycloak serves no CAS), messagerie-interne.
# No `settings.sso`: each service's login is derived from the provider (E055).
MODULES = """\
  openent/portail: { version: "^1.4", config: { titre: "ENT national (banc d'essai)" } }
  openent/lemonldap:
    version: "^2.16"
    config:
      ldap_base_dn: "dc=ent,dc=education,dc=fr"
      ldap_bind_dn: "cn=admin,dc=ent,dc=education,dc=fr"
      ldap_bind_password: { env: LDAP_ADMIN_PASSWORD }
      cle_chiffrement: { env: LEMONLDAP_KEY }
      oidc_signing_key: { env: LEMONLDAP_OIDC_KEY }
  openent/postgresql: { version: "^16.6", config: { admin_password: { env: POSTGRES_PASSWORD } } }
  openent/mariadb: { version: "^11.4", config: { root_password: { env: MARIADB_ROOT_PASSWORD } } }
  openent/annuaire:
    version: "^2.4"
    config: { base_dn: "dc=ent,dc=education,dc=fr", admin_password: { env: LDAP_ADMIN_PASSWORD } }
  openent/actualites: "^1.0"
  openent/agenda: "^1.0"
  openent/blogs: { version: "^7.0", config: { cles_salage: { env: WORDPRESS_SALTS } } }
  openent/cahier-de-textes: "^2.3"
  openent/cdi: "^9.0"
  openent/chat: { version: "^2.0", config: { ldap_password: { env: LDAP_ADMIN_PASSWORD } } }
  openent/cours: "^5.0"
  openent/documents: { version: "^30", config: { admin_password: { env: NEXTCLOUD_ADMIN_PASSWORD } } }
  openent/emploi-du-temps: "^1.0"
  openent/forum: "^1.0"
  openent/messagerie-interne: "^1.0"
  openent/mobile: { version: "^1.0", config: { push_cle: { env: MOBILE_PUSH_KEY } } }
  openent/notes-absences: { version: "^1.6", features: [sms] }
  openent/orientation: { version: "^1.0", config: { academie: paris } }
  openent/pads: { version: "^3.0", config: { admin_mot_de_passe: { env: PADS_ADMIN_PASSWORD } } }
  openent/paiement:
    version: "^1.0"
    config: { identifiant_marchand: "ENT-NATIONAL", cle_api: { env: PAIEMENT_API_KEY } }
  openent/reservation: { version: "^5.0", config: { sel_mots_de_passe: { env: GRR_PASSWORD_SALT } } }
  openent/ressources-pedagogiques:
    version: "^1.0"
    config: { id_ent: "ent-national", certificat_mot_de_passe: { env: GAR_CERT_PASSWORD } }
  openent/scolarite:
    version: "^1.0"
    config:
      academie_code: "01"
      depot_url: "https://aaf.education.example.fr/exports"
      depot_cle: { env: AAF_DEPOT_KEY }
  openent/sites-web: "^5.0"
  openent/sms-parents:
    version: "^1.0"
    config: { passerelle_url: "https://sms.education.example.fr/api/v1", passerelle_cle: { env: SMS_API_KEY } }
  openent/stages: "^1.0"
"""


def uai(prefix: str, n: int) -> str:
    number = int(prefix) * 10_000 + n
    assert n < 10_000
    return uai7(number)


def country(seed: int) -> list[tuple[str, str, str, str, str, str, str]]:
    """Every établissement: (uai, nom, type, commune, departement, secteur, académie)."""
    rng = random.Random(seed)
    total = sum(p for _, _, p, _ in DEPARTEMENTS)
    weights = [p / total for _, _, p, _ in DEPARTEMENTS]
    next_number = {code: 0 for code, *_ in DEPARTEMENTS}
    rows = []
    for kind, secteur, count, prefix in KINDS:
        # Largest remainders: each département its share, the total exact.
        shares = [count * w for w in weights]
        counts = [int(s) for s in shares]
        for i in sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])[: count - sum(counts)]:
            counts[i] += 1
        for (code, prefecture, _, academie), k in zip(DEPARTEMENTS, counts):
            for _ in range(k):
                n = next_number[code]
                next_number[code] = n + 1
                nom = f"{prefix} {rng.choice(PATRONS)}"
                commune = prefecture if rng.random() < 0.3 else f"{prefecture}-{rng.choice('NSEO')}{n % 17}"
                rows.append((uai(uai_prefix(code), n), nom, kind, commune, code, secteur, academie))
    return rows


def uai_prefix(code: str) -> str:
    return {"2A": "620", "2B": "720"}.get(code, code if len(code) == 3 else f"0{code}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--etabs", type=int, default=0, help="a sample of N (default: all)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--target", choices=["compose", "kubernetes"], default="compose")
    p.add_argument("--registry", type=Path, default=ROOT / "registry")
    a = p.parse_args()
    rows = country(a.seed)
    if a.etabs:
        if a.etabs > len(rows):
            p.error(f"--etabs {a.etabs}: the country has {len(rows)} établissements")
        order = list(range(len(rows)))
        random.Random(a.seed + 1).shuffle(order)
        rows = [rows[i] for i in sorted(order[: a.etabs])]
    rows.sort()
    a.out.mkdir(parents=True, exist_ok=True)
    with open(a.out / "etablissements.csv", "w", encoding="utf-8", newline="\n") as f:
        f.write("uai,nom,type,commune,departement,secteur\n")
        for r in rows:
            f.write(",".join(r[:6]) + "\n")
    # A few overrides, as a national distribution would have (not one per
    # établissement: the académie option keeps its default elsewhere).
    overrides = "".join(
        f'    "{r[0]}":\n      openent/orientation: {{ academie: {r[6]} }}\n'
        for r in rows[:: max(1, len(rows) // 20)]
    )
    (a.out / "distribution.yaml").write_text(
        "schema: oent/distribution/v1\n"
        "name: bench/france\n"
        "version: 2026.12.0\n"
        "collectivite: { nom: Ministère (banc d'essai national), type: groupement }\n"
        f"registries:\n  - {{ name: local, path: {a.registry.resolve()} }}\n"
        f"modules:\n{MODULES}"
        "settings:\n"
        "  domaine: ent.education.example.fr\n"
        "  smtp: { host: smtp.ent.education.example.fr, from: ne-pas-repondre@ent.education.example.fr }\n"
        "  contact: assistance@ent.education.example.fr\n"
        f"scale: {{ etablissements: {len(rows)} }}\n"
        "etablissements:\n"
        "  file: etablissements.csv\n"
        f"  overrides:\n{overrides}"
        f"target: {a.target}\n",
        encoding="utf-8",
    )
    print(f"{len(rows)} établissements, {len({r[4] for r in rows})} départements -> {a.out}")


if __name__ == "__main__":
    main()
