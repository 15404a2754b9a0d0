#!/usr/bin/env python3
"""What a collectivité would otherwise script to turn an AAF export into
LDIF: xml.etree's iterparse over each file, the same checks as `oent
import aaf` (UAI check letter, one entry per identifier, known profiles,
établissements served) and the same LDIF, byte for byte, so that
scripts/bench/aaf.sh can compare both outputs before timing them.

Usage: py_aaf.py BASE_DN ETABLISSEMENTS_CSV OUT FILE...
"""

import base64
import csv
import os
import sys
import xml.etree.ElementTree as ET

LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
PROFILES = {"Eleve": "ENTEleve", "PersRelEleve": "ENTAuxPersRelEleve"}
CODES = {"ENTEleve": "National_ELV", "ENTAuxPersRelEleve": "National_TUT",
         "ENTAuxEnseignant": "National_ENS", "ENTAuxNonEnsEtab": "National_ETA"}
RESPONSABLES = ["ENTEleveAutoriteParentale", "ENTElevePere", "ENTEleveMere",
                "ENTEleveParents", "ENTElevePersRelEleve"]


def uai_ok(uai):
    return (len(uai) == 8 and uai[:7].isdigit()
            and uai[7] == LETTERS[int(uai[:7]) % 23])


def line(attr, value):
    safe = (value.isascii() and not any(c in value for c in "\0\n\r")
            and not value.startswith((" ", ":", "<")) and not value.endswith(" "))
    if safe:
        return f"{attr}: {value}\n"
    return f"{attr}:: {base64.b64encode(value.encode()).decode()}\n"


def main():
    base_dn, etabs_csv, out, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    with open(etabs_csv, encoding="utf-8") as f:
        served = {row["uai"] for row in csv.DictReader(f)}
    structures, people, problems = {}, {}, []
    for path in files:
        for _, el in ET.iterparse(path, events=("end",)):
            if el.tag not in ("addRequest", "modifyRequest", "deleteRequest"):
                continue
            ident = (el.findtext("identifier/id") or "").strip()
            if el.tag != "addRequest":
                problems.append(f"{path}: {ident} is a {el.tag}")
                el.clear()
                continue
            op = el.find("operationalAttributes/attr")
            kind, category = op.get("name"), (op.findtext("value") or "").strip()
            attrs = {}
            for a in el.find("attributes").findall("attr"):
                attrs[a.get("name")] = [v.text.strip() for v in a.findall("value")
                                        if v.text and v.text.strip()]
            el.clear()
            first = lambda name: (attrs.get(name) or [None])[0]  # noqa: E731
            if kind == "categorieStructure":
                uai = first("ENTStructureUAI")
                if ident in structures or not uai or not uai_ok(uai):
                    problems.append(f"{path}: structure {ident}")
                    continue
                structures[ident] = uai
                continue
            if category == "PersEducNat":
                teaches = (first("PersEducNatPresenceDevantEleves") == "O"
                           or any("$ENS$" in f for f in attrs.get("ENTPersonFonctions", [])))
                cls = "ENTAuxEnseignant" if teaches else "ENTAuxNonEnsEtab"
            elif category in PROFILES:
                cls = PROFILES[category]
            else:
                problems.append(f"{path}: {ident} has profile {category}")
                continue
            if ident in people or not first("sn"):
                problems.append(f"{path}: person {ident}")
                continue
            birth = first("ENTPersonDateNaissance")
            if birth and not (len(birth) == 10 and birth[2] == birth[5] == "/"
                              and (birth[:2] + birth[3:5] + birth[6:]).isdigit()):
                problems.append(f"{path}: {ident} birth date {birth}")
                continue
            classes = [tuple(v.split("$", 1)) for v in attrs.get("ENTEleveClasses", [])
                       if "$" in v and v.split("$", 1)[1]]
            resp = set()
            if cls == "ENTEleve":
                for name in RESPONSABLES:
                    resp.update(v.split("$")[0] for v in attrs.get(name, []))
            people[ident] = dict(cls=cls, sn=first("sn"), given=first("givenName"),
                                 mail=first("mail"), birth=birth, classes=classes,
                                 structures=attrs.get("ENTPersonStructRattach", []),
                                 resp=resp)
    parents = {}
    for ident in sorted(people):
        p = people[ident]
        uais = set()
        for s in p["structures"]:
            if s not in structures:
                problems.append(f"{ident}: unknown structure {s}")
                continue
            if structures[s] not in served:
                problems.append(f"{ident}: structure {structures[s]} not served")
            uais.add(structures[s])
        p["uais"] = uais
        if p["cls"] == "ENTEleve" and not p["structures"]:
            problems.append(f"{ident}: pupil without ENTPersonStructRattach")
        for s, _ in p["classes"]:
            if s not in structures:
                problems.append(f"{ident}: class of unknown structure {s}")
        for r in p["resp"]:
            parents.setdefault(r, set()).update(uais)
    if problems:
        print("\n".join(problems[:20]), file=sys.stderr)
        sys.exit(1)
    names = [os.path.basename(f) for f in files]
    with open(out + ".tmp", "w", encoding="utf-8") as w:
        w.write(f"# Généré par oent import aaf : {len(people)} compte(s) de l'AAF\n")
        w.write(f"# Fichiers : {', '.join(names)}\n")
        for ident in sorted(people):
            p = people[ident]
            uais = parents.get(ident, set()) if p["cls"] == "ENTAuxPersRelEleve" else p["uais"]
            full = f"{p['given']} {p['sn']}" if p["given"] else p["sn"]
            w.write("\n" + line("dn", f"uid={ident},ou=personnes,{base_dn}"))
            w.write("objectClass: inetOrgPerson\nobjectClass: ENTPerson\n"
                    + line("objectClass", p["cls"]) + line("uid", ident) + line("cn", full)
                    + line("sn", p["sn"]))
            if p["given"]:
                w.write(line("givenName", p["given"]))
            w.write(line("displayName", full))
            if p["mail"]:
                w.write(line("mail", p["mail"]))
            w.write(line("ENTPersonJointure", ident) + line("ENTPersonLogin", ident)
                    + line("ENTPersonProfils", CODES[p["cls"]]))
            for uai in sorted(uais):
                w.write(line("ENTPersonStructRattach", f"ou={uai},ou=structures,{base_dn}"))
            if p["birth"]:
                w.write(line("ENTPersonDateNaissance", p["birth"]))
            if p["cls"] == "ENTEleve":
                for s, c in p["classes"]:
                    dn = f"ou={structures[s]},ou=structures,{base_dn}"
                    w.write(line("ENTEleveClasses", f"{dn}${c}"))
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
