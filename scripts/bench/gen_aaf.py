#!/usr/bin/env python3
"""Writes a complete AAF export of N people for the établissements of a
distribution's etablissements.csv: the four files an académie sends
(EtabEducNat, Eleve, PersRelEleve, PersEducNat), ISO-8859-15, in the
markup of ficAlimMENESR.dtd (see tests/fixtures/aaf/README.md).

About 55 % pupils, 38 % parents (one or two per pupil, shared by
siblings), 7 % staff (six in seven teach). Names are drawn from small
invented lists with accents (É, è, ç, œ) so that decoding is exercised.

Usage: gen_aaf.py ETABLISSEMENTS_CSV OUT_DIR [N] [SEED]
"""

import csv
import os
import random
import sys

HEAD = (
    '<?xml version="1.0" encoding="ISO-8859-15"?>\n'
    '<!DOCTYPE ficAlimMENESR SYSTEM "ficAlimMENESR.dtd">\n<ficAlimMENESR>\n'
)
TAIL = "</ficAlimMENESR>\n"
SURNAMES = ["MARTIN", "BERNARD", "LEFÈVRE", "LŒUILLET", "GARÇON", "DIALLO",
            "NGUYEN", "ROUSSEAU", "FAURÉ", "MOREAU", "KOWALSKI", "BENOÎT"]
GIVEN = ["Élodie", "Chloé", "Noé", "Hélène", "François", "Aïssatou", "Léa",
         "Jérôme", "Inès", "Thu", "Camille", "Zoé", "Maël", "Anaïs"]
CLASSES = ["6EME A", "6EME B", "5EME A", "5EME B", "4EME A", "4EME B", "3EME A", "3EME B"]


def attr(name, *values):
    values = [v for v in values if v]
    if not values:
        return f'<attr name="{name}"><value/></attr>\n'
    return f'<attr name="{name}">' + "".join(f"<value>{v}</value>" for v in values) + "</attr>\n"


def request(kind, category, ident, attrs):
    return (
        f'<addRequest>\n<operationalAttributes><attr name="{kind}"><value>{category}</value>'
        f"</attr></operationalAttributes>\n<identifier><id>{ident}</id></identifier>\n"
        f"<attributes>\n{''.join(attrs)}</attributes>\n</addRequest>\n"
    )


def main():
    etabs_csv, out = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 20260901)
    with open(etabs_csv, encoding="utf-8") as f:
        etabs = [row for row in csv.DictReader(f)]
    os.makedirs(out, exist_ok=True)
    files = {k: open(os.path.join(out, f"ENT_BENCH_Complet_20260901_{k}_0000.xml"), "w",
                     encoding="iso-8859-15") for k in ["EtabEducNat", "Eleve", "PersRelEleve", "PersEducNat"]}
    for f in files.values():
        f.write(HEAD)
    for i, e in enumerate(etabs):
        files["EtabEducNat"].write(request("categorieStructure", "EtabEducNat", 100000 + i, [
            attr("ENTStructureJointure", str(100000 + i)), attr("ENTStructureUAI", e["uai"]),
            attr("ENTStructureNomCourant", e["nom"].upper().replace("É", "E").replace("È", "E")),
            attr("ENTStructureTypeStruct", "CLG"), attr("l", e["commune"].upper()),
        ]))
    pupils, staff = int(n * 0.55), int(n * 0.07)
    parents_left = n - pupils - staff
    next_parent = 5_000_000
    for p in range(pupils):
        s = 100000 + rng.randrange(len(etabs))
        # A sibling shares the previous pupil's parents one time in five.
        if p == 0 or rng.random() > 0.2:
            k = min(parents_left, 1 if rng.random() < 0.3 else 2)
            mine = []
            for _ in range(k):
                next_parent += 1
                parents_left -= 1
                mine.append(next_parent)
                sn = rng.choice(SURNAMES)
                files["PersRelEleve"].write(request("categoriePersonne", "PersRelEleve", next_parent, [
                    attr("ENTPersonJointure", str(next_parent)), attr("sn", sn), attr("ENTPersonNomPatro", sn),
                    attr("givenName", rng.choice(GIVEN)), attr("personalTitle", rng.choice(["M.", "Mme"])),
                    attr("ENTPersonAdresse", "12 RUE DES LILAS"), attr("ENTPersonCodePostal", "91000"),
                    attr("mail", f"parent{next_parent}@exemple.fr" if rng.random() < 0.6 else ""),
                ]))
        sn, gn = rng.choice(SURNAMES), rng.choice(GIVEN)
        ident = 1_000_000 + p
        files["Eleve"].write(request("categoriePersonne", "Eleve", ident, [
            attr("ENTPersonJointure", str(ident)), attr("ENTPersonDateNaissance", "14/03/2013"),
            attr("ENTPersonNomPatro", sn), attr("sn", sn), attr("givenName", gn),
            attr("personalTitle", rng.choice(["M.", "Mme"])),
            attr("ENTEleveAutoriteParentale", *[str(m) for m in mine]),
            attr("ENTElevePersRelEleve", *[f"{m}$1$1$1$0$1" for m in mine]),
            attr("ENTEleveRegime", "DP DAN"), attr("ENTPersonStructRattach", str(s)),
            attr("ENTEleveClasses", f"{s}${rng.choice(CLASSES)}"),
        ]))
    for t in range(staff):
        s = 100000 + rng.randrange(len(etabs))
        teaches = rng.random() < 6 / 7
        ident = 8_000_000 + t
        sn = rng.choice(SURNAMES)
        files["PersEducNat"].write(request("categoriePersonne", "PersEducNat", ident, [
            attr("ENTPersonJointure", str(ident)), attr("sn", sn), attr("givenName", rng.choice(GIVEN)),
            attr("mail", f"agent{ident}@ac-versailles.fr"), attr("ENTPersonStructRattach", str(s)),
            attr("ENTPersonFonctions", f"{s}$ENS$ENSEIGNEMENT$L0202$LETTRES" if teaches else f"{s}$EDU$EDUCATION$E0030$CPE"),
            attr("PersEducNatPresenceDevantEleves", "O" if teaches else "N"),
        ]))
    for f in files.values():
        f.write(TAIL)
        f.close()
    print(f"{len(etabs)} établissements, {pupils} pupils, {next_parent - 5_000_000} parents, {staff} staff in {out}")


if __name__ == "__main__":
    main()
