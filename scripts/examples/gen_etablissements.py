#!/usr/bin/env python3
"""Writes the établissements CSV files of the repository's examples.

    scripts/examples/gen_etablissements.py            # rewrite the CSV files
    scripts/examples/gen_etablissements.py --check    # exit 1 if one differs

Deterministic: the same script writes the same bytes (a fixed seed, sorted
output, no clock, standard library only). The CSV files are committed; run
this script again after changing it, and commit both.

What is real and what is not:

- the counts come from the public documents the project started from:
  471 lycées publics for the Région Île-de-France (Lilie); 732 établissements
  for E-LYCO (370 public, 362 private) with the yearly deployment calendar
  of its launch press kit (2009-2010 … 2013-2014), and the pilot
  établissements it names, with their towns;
- the split between départements, the names of the établissements that the
  documents do not name, and every UAI are ILLUSTRATIVE. The UAIs are well
  formed (7 digits, the right check letter, the département's prefix) but
  are not taken from the national directory (RAMSESE): a match with a real
  établissement is a coincidence. Do not use these files as a directory.
"""

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
HEADER = ["uai", "nom", "type", "commune", "departement", "secteur"]


def uai(number: int) -> str:
    """The UAI of a 7-digit number: the number and its check letter."""
    assert 0 <= number < 10_000_000
    return f"{number:07d}{LETTERS[number % 23]}"


class Uais:
    """Hands out distinct UAIs per département, from a base number up."""

    def __init__(self, start: int):
        self.next = {}
        self.start = start

    def take(self, departement: str) -> str:
        n = self.next.get(departement, self.start)
        self.next[departement] = n + 1
        return uai(int(departement) * 10_000 + n)


def csv_field(value: str) -> str:
    if any(c in value for c in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_text(header, rows) -> str:
    lines = [",".join(header)]
    lines += [",".join(csv_field(str(v)) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


# Namesakes of French collèges and lycées (the most common ones, in the
# hyphenated form the names take).
NAMESAKES = """Jean-Moulin Victor-Hugo Paul-Éluard Jacques-Prévert Marie-Curie Louise-Michel
Jean-Jaurès Albert-Camus Jules-Ferry Condorcet Voltaire Lavoisier Gustave-Eiffel
Blaise-Pascal Camille-Claudel Simone-Veil Jean-Macé Romain-Rolland Pablo-Picasso
Henri-Matisse Paul-Langevin Frédéric-Joliot-Curie Olympe-de-Gouges Léonard-de-Vinci
Évariste-Galois Georges-Brassens Jean-Rostand Antoine-de-Saint-Exupéry Flora-Tristan
Rosa-Parks Nelson-Mandela Jean-Monnet Robert-Schuman Louis-Armand Honoré-de-Balzac
George-Sand Émile-Zola Molière Jean-de-La-Fontaine Charles-de-Gaulle Pierre-Mendès-France
Germaine-Tillion Lucie-Aubrac Marcel-Pagnol Alexandre-Dumas Claude-Monet Hector-Berlioz
Jean-Vilar Marguerite-Yourcenar René-Cassin Gaston-Bachelard Arthur-Rimbaud Paul-Valéry
Auguste-Renoir Eugène-Delacroix Édouard-Branly André-Malraux Guillaume-Apollinaire
Jacques-Brel Jean-Zay Pierre-de-Coubertin Louis-Pasteur Jean-Perrin Sonia-Delaunay
Maurice-Utrillo Marie-Laurencin Rabelais Montesquieu Diderot Descartes Racine Corneille
Alfred-Kastler Paul-Bert Jules-Verne Anatole-France Charles-Péguy Albert-Schweitzer
Jean-Renoir Jacques-Monod Françoise-Dolto Nicolas-de-Staël Joachim-du-Bellay Gérard-Philipe
Eugène-Ionesco Aimé-Césaire Léopold-Sédar-Senghor Toussaint-Louverture Jean-Baptiste-Corot
Camille-Pissarro Vincent-Van-Gogh Paul-Cézanne Henri-Wallon Marc-Bloch Jean-Lurçat
Alfred-de-Musset Stendhal Gustave-Flaubert Guy-de-Maupassant Jean-Giono Boris-Vian
Louis-Aragon Elsa-Triolet Robert-Doisneau Jean-Cocteau Évariste-de-Parny Henri-Becquerel
Pierre-et-Marie-Curie Irène-Joliot-Curie Hubertine-Auclert Gisèle-Halimi Missak-Manouchian
Danielle-Casanova Berthie-Albrecht Madeleine-Michelis Colette Charlotte-Delbo""".split()

# Names of Catholic private établissements (enseignement catholique, under
# contract with the State), which E-LYCO serves alongside public ones.
SAINTS = """Saint-Joseph Notre-Dame Sainte-Marie Saint-Louis Saint-Michel Sainte-Anne
Saint-Jean-Baptiste Saint-Pierre Saint-Paul Sainte-Thérèse Saint-Martin Saint-Gabriel
Sainte-Jeanne-d'Arc Saint-Jacques Saint-François-d'Assise Sainte-Ursule Saint-Charles
Notre-Dame-du-Roc Saint-Nicolas Saint-Vincent Sainte-Famille Immaculée-Conception
Saint-Stanislas Saint-Dominique La-Salle Saint-Félix Sacré-Cœur Saint-Julien
Saint-Benoît Sainte-Croix Saint-Augustin Saint-Blaise Notre-Dame-de-la-Providence
Saint-Sauveur Saint-Gilles Saint-Étienne Sainte-Bernadette Saint-Exupéry Jean-XXIII
Saint-Joseph-la-Salle Sainte-Geneviève Saint-André Saint-Jean""".split()

# ---------------------------------------------------------------------------
# Île-de-France: the 471 lycées publics of Lilie, in the eight départements.

IDF_COMMUNES = {
    "75": ["Paris"],
    "77": """Meaux Melun Chelles Pontault-Combault Savigny-le-Temple Champs-sur-Marne Torcy
        Lagny-sur-Marne Fontainebleau Provins Montereau-Fault-Yonne Nemours Coulommiers
        Bussy-Saint-Georges Noisiel Combs-la-Ville Dammarie-les-Lys Le-Mée-sur-Seine Lognes
        Roissy-en-Brie Mitry-Mory Villeparisis Brie-Comte-Robert Avon Vaux-le-Pénil""",
    "78": """Versailles Saint-Germain-en-Laye Mantes-la-Jolie Poissy Sartrouville Houilles
        Rambouillet Trappes Plaisir Les-Mureaux Conflans-Sainte-Honorine Chatou
        Le-Chesnay-Rocquencourt Saint-Cyr-l'École Montigny-le-Bretonneux Élancourt Guyancourt
        Maisons-Laffitte Le-Vésinet Vélizy-Villacoublay Mantes-la-Ville Magnanville""",
    "91": """Évry-Courcouronnes Corbeil-Essonnes Massy Palaiseau Orsay Les-Ulis
        Savigny-sur-Orge Sainte-Geneviève-des-Bois Étampes Brétigny-sur-Orge Draveil
        Viry-Châtillon Juvisy-sur-Orge Montgeron Yerres Brunoy Dourdan Arpajon Longjumeau
        Athis-Mons Ris-Orangis Grigny Gif-sur-Yvette Vigneux-sur-Seine""",
    "92": """Nanterre Boulogne-Billancourt Colombes Asnières-sur-Seine Courbevoie
        Rueil-Malmaison Issy-les-Moulineaux Levallois-Perret Neuilly-sur-Seine Antony Clichy
        Clamart Montrouge Sceaux Châtenay-Malabry Gennevilliers Suresnes Puteaux Meudon Sèvres
        Saint-Cloud Bagneux Vanves Villeneuve-la-Garenne Bois-Colombes Châtillon
        Fontenay-aux-Roses Le-Plessis-Robinson Garches Malakoff""",
    "93": """Saint-Denis Montreuil Aubervilliers Aulnay-sous-Bois Drancy Noisy-le-Grand Pantin
        Bondy Épinay-sur-Seine Sevran Le-Blanc-Mesnil Bobigny Saint-Ouen-sur-Seine
        Rosny-sous-Bois Noisy-le-Sec Livry-Gargan Villepinte Tremblay-en-France Le-Raincy
        Gagny Montfermeil Clichy-sous-Bois La-Courneuve Stains Pierrefitte-sur-Seine
        Romainville Bagnolet Les-Lilas Neuilly-sur-Marne Villemomble""",
    "94": """Créteil Vitry-sur-Seine Champigny-sur-Marne Saint-Maur-des-Fossés Ivry-sur-Seine
        Maisons-Alfort Villejuif Fontenay-sous-Bois Vincennes Alfortville Choisy-le-Roi
        Le-Perreux-sur-Marne Nogent-sur-Marne Cachan L'Haÿ-les-Roses Thiais Orly
        Villeneuve-Saint-Georges Sucy-en-Brie Boissy-Saint-Léger Chennevières-sur-Marne
        Saint-Mandé Arcueil Fresnes Charenton-le-Pont Joinville-le-Pont Bonneuil-sur-Marne
        Le-Kremlin-Bicêtre""",
    "95": """Cergy Argenteuil Sarcelles Pontoise Garges-lès-Gonesse Franconville Goussainville
        Bezons Ermont Villiers-le-Bel Gonesse Taverny Herblay-sur-Seine Saint-Gratien Eaubonne
        Montmorency Cormeilles-en-Parisis Deuil-la-Barre Sannois Osny Saint-Ouen-l'Aumône
        Beaumont-sur-Oise L'Isle-Adam Magny-en-Vexin Domont Enghien-les-Bains Jouy-le-Moutier
        Persan""",
}

# Lycées per département (illustrative, roughly in proportion to the
# départements' populations of lycéens), 471 in all.
IDF_COUNTS = {"75": 98, "77": 55, "78": 54, "91": 50, "92": 52, "93": 62, "94": 52, "95": 48}
# Paris keeps the names its oldest lycées are known by.
PARIS_NAMES = """Henri-IV Louis-le-Grand Charlemagne Condorcet Janson-de-Sailly Victor-Duruy
Fénelon Montaigne Lavoisier Chaptal Voltaire Turgot Hélène-Boucher Maurice-Ravel Paul-Valéry
Claude-Monet Rodin Buffon Camille-Sée Jean-de-La-Fontaine Molière Honoré-de-Balzac Jules-Ferry
Lamartine Racine Jacques-Decour Colbert Sophie-Germain Simone-Weil Victor-Hugo Dorian Diderot
Saint-Louis Carnot Chaptal-Europe Hector-Berlioz Sévigné Edgar-Quinet Paul-Bert Arago""".split()


class Names:
    """Cycles through a list of names, so that each is used once before any
    is used again, skipping a name already given in the same commune."""

    def __init__(self, names):
        self.names = list(names)
        self.i = 0

    def take(self, commune: str, used: set, prefix: str = "") -> str:
        for _ in range(len(self.names)):
            name = prefix + self.names[self.i % len(self.names)]
            self.i += 1
            if (name, commune) not in used:
                used.add((name, commune))
                return name
        raise ValueError(f"no name left for {commune}")


def commune_name(token: str) -> str:
    """`Le-Mée-sur-Seine` → `Le Mée-sur-Seine`: an article stays a word."""
    for article in ("Le-", "La-", "Les-", "L'"):
        if token.startswith(article) and article != "L'":
            return article[:-1] + " " + token[len(article):]
    return token


def idf() -> str:
    assert sum(IDF_COUNTS.values()) == 471
    rng = random.Random("oent ile-de-france")
    uais = Uais(500)
    rows = []
    erea_left = {"77": 1, "78": 1, "91": 1, "92": 1, "93": 2, "94": 1, "95": 1}
    for dep, count in IDF_COUNTS.items():
        communes = IDF_COMMUNES[dep]
        communes = communes if isinstance(communes, list) else communes.split()
        shuffled = list(NAMESAKES)
        rng.shuffle(shuffled)
        general = Names(PARIS_NAMES + shuffled if dep == "75" else shuffled)
        professional = Names(shuffled[len(shuffled) // 2:] + shuffled[:len(shuffled) // 2])
        used = set()
        for i in range(count):
            # About 6 lycées in 10 général et technologique or polyvalent, the
            # rest professionnels; Paris has its cités scolaires (collège and
            # lycée together), each département an EREA or two.
            if erea_left.get(dep, 0) and i == count - 1 - (erea_left[dep] - 1):
                kind, prefix = "erea", "EREA"
                erea_left[dep] -= 1
            elif dep == "75" and i % 8 == 0:
                kind, prefix = "cite-scolaire", "Cité scolaire"
            elif i % 5 in (1, 3):
                kind, prefix = "lycee-pro", "Lycée professionnel"
            else:
                kind, prefix = "lycee", "Lycée"
            commune = commune_name(communes[i % len(communes)])
            # Paris's historic names go to its général lycées and cités scolaires.
            pool = general if kind in ("lycee", "cite-scolaire") else professional
            name = pool.take(commune, used)
            rows.append((uais.take(dep), f"{prefix} {name}", kind, commune, dep, "public"))
    return csv_text(HEADER, sorted(rows))


# ---------------------------------------------------------------------------
# E-LYCO: the 732 établissements of the académie de Nantes.

ELYCO_DEPS = {"44": "loire-atlantique", "49": "maine-et-loire", "53": "mayenne",
              "72": "sarthe", "85": "vendee"}
# (public collèges, private collèges, public lycées, private lycées) per
# département — illustrative; totals 370 public and 362 private.
ELYCO_COUNTS = {
    "44": (80, 80, 40, 45),
    "49": (50, 62, 28, 32),
    "53": (27, 20, 11, 10),
    "72": (58, 28, 20, 15),
    "85": (37, 50, 19, 20),
}
# The deployment calendar of the launch press kit (October 2009): how many
# établissements open each school year.
WAVES = ["2009-2010", "2010-2011", "2011-2012", "2012-2013", "2013-2014"]
WAVE_PUBLIC = [94, 94, 92, 57, 33]
WAVE_PRIVATE = [27, 61, 96, 95, 83]

ELYCO_COMMUNES = {
    "44": """Nantes Saint-Nazaire Rezé Saint-Herblain Saint-Sébastien-sur-Loire Orvault Vertou
        Carquefou La-Baule-Escoublac Guérande Pornic Châteaubriant Ancenis-Saint-Géréon Clisson
        Blain Savenay Machecoul-Saint-Même Pontchâteau Nort-sur-Erdre Couëron Bouguenais
        Sainte-Luce-sur-Loire La-Chapelle-sur-Erdre Pornichet Bouaye Héric Vallet Derval""",
    "49": """Angers Cholet Saumur Avrillé Trélazé Les-Ponts-de-Cé Saint-Barthélemy-d'Anjou
        Segré-en-Anjou-Bleu Beaupréau-en-Mauges Chemillé-en-Anjou Doué-en-Anjou Baugé-en-Anjou
        Longué-Jumelles Chalonnes-sur-Loire Montreuil-Bellay Sèvremoine Durtal Candé Pouancé
        Brissac-Loire-Aubance Mauges-sur-Loire Le-Lion-d'Angers""",
    "53": """Laval Mayenne Château-Gontier-sur-Mayenne Évron Ernée Craon Gorron Lassay-les-Châteaux
        Villaines-la-Juhel Meslay-du-Maine Renazé Andouillé Bonchamp-lès-Laval Saint-Berthevin
        Ambrières-les-Vallées""",
    "72": """Le-Mans Allonnes Arnage La-Flèche Sablé-sur-Sarthe La-Ferté-Bernard Mamers
        Coulaines Château-du-Loir Saint-Calais Écommoy Loué Connerré Bonnétable
        Marolles-les-Braults Malicorne-sur-Sarthe Saint-Cosme-en-Vairais Montval-sur-Loir
        Changé Conlie Fresnay-sur-Sarthe""",
    "85": """La-Roche-sur-Yon Les-Sables-d'Olonne Challans Les-Herbiers Fontenay-le-Comte
        Montaigu-Vendée Luçon Saint-Gilles-Croix-de-Vie Mortagne-sur-Sèvre Chantonnay
        Pouzauges Saint-Jean-de-Monts Aizenay Moutiers-les-Mauxfaits La-Châtaigneraie
        Noirmoutier-en-l'Île Saint-Hilaire-de-Riez Mareuil-sur-Lay-Dissais Beaurepaire""",
}

# The établissements the press kit names for the first wave, with their
# towns (spelling normalised); `*` marks the pilot (test) établissements.
# Loire-Atlantique's first-wave collèges were still being chosen (10 public
# and 8 private): they are generated, and put in the first wave.
NAMED_LATER = {("44", "public"): 10, ("44", "prive"): 8}
NAMED = """
college public 49 Collège Californie* | Angers
college public 49 Collège Anjou-Bretagne | Mauges-sur-Loire
college public 49 Collège La Venaiserie | Saint-Barthélemy-d'Anjou
college public 49 Collège Philippe-Cousteau | Pouancé
college prive 49 Collège Saint-Charles | Angers
college prive 49 Collège Sainte-Marie | Sèvremoine
college public 53 Collège des Sept-Fontaines | Andouillé
college public 53 Collège Pierre-Dubois | Laval
college public 53 Collège Alain-Gerbault* | Laval
college public 53 Collège Jules-Ferry | Mayenne
college public 53 Collège Sévigné | Mayenne
college public 53 Collège Alfred-Jarry | Renazé
college prive 53 Collège Saint-Michel | Château-Gontier-sur-Mayenne
college prive 53 Collège Sainte-Thérèse | Laval
college prive 53 Collège Saint-Nicolas | Villaines-la-Juhel
college public 72 Collège John-Kennedy* | Allonnes
college public 72 Collège Henri-Lefeuvre | Arnage
college public 72 Collège François-Grudé | Connerré
college public 72 Collège Le Vieux-Colombier | Le Mans
college public 72 Collège Marcel-Pagnol | Malicorne-sur-Sarthe
college public 72 Collège Jean-Moulin | Marolles-les-Braults
college public 72 Collège Véron-de-Forbonnais | Saint-Cosme-en-Vairais
college prive 72 Collège Saint-Michel | Loué
college prive 72 Collège Saint-Julien | Le Mans
college public 85 Collège François-Viète | Fontenay-le-Comte
college public 85 Collège Olivier-Messiaen | Mortagne-sur-Sèvre
college public 85 Collège Haxo* | La Roche-sur-Yon
college public 85 Collège Pierre-Garcie-Ferrande | Saint-Gilles-Croix-de-Vie
college public 85 Collège Beaussire | Luçon
college public 85 Collège Paul-Langevin | Les Sables-d'Olonne
college public 85 Collège Jules-Ferry | Montaigu-Vendée
college prive 85 Collège Saint-Joseph | Challans
college prive 85 Collège Jean-Yole | Les Herbiers
college prive 85 Collège Sainte-Ursule | Luçon
college prive 85 Collège Villebois-Mareuil | Montaigu-Vendée
college prive 85 Collège Saint-Jacques | Moutiers-les-Mauxfaits
college prive 85 Collège Saint-Louis | La Roche-sur-Yon
college prive 85 Collège Sacré-Cœur | La Roche-sur-Yon
lycee public 44 Lycée Camille-Claudel | Blain
lycee public 44 Lycée Alcide-d'Orbigny | Bouaye
lycee public 44 Lycée Les Bourdonnières* | Nantes
lycee public 44 Lycée Carcouët | Nantes
lycee public 44 Lycée Vial | Nantes
lycee public 44 Lycée Guist'hau | Nantes
lycee public 44 Lycée La Colinière | Nantes
lycee public 44 Lycée Monge-La Colinière | Nantes
lycee public 44 Lycée Pays de Retz | Pornic
lycee public 44 Lycée Jean-Perrin* | Rezé
lycee public 44 Lycée Aristide-Briand | Saint-Nazaire
lycee-pro public 44 Lycée professionnel Pablo-Neruda | Bouguenais
lycee-pro public 44 Lycée professionnel Arago | Nantes
lycee-pro public 44 Lycée professionnel des Trois-Rivières* | Pontchâteau
lycee-pro public 44 Lycée professionnel Albert-Chassagne | Paimbœuf
lycee-pro public 44 Lycée professionnel Jean-Jacques-Audubon | Couëron
lycee-pro public 44 Lycée professionnel Jacques-Goussier* | Rezé
lycee-pro public 44 Lycée professionnel La Savarière | Saint-Sébastien-sur-Loire
lycee public 49 Lycée Bergson | Angers
lycee public 49 Lycée polyvalent Jean-Moulin | Angers
lycee public 49 Lycée Auguste-et-Jean-Renoir* | Angers
lycee public 49 Lycée David-d'Angers | Angers
lycee public 49 Lycée Europe Robert-Schuman | Cholet
lycee public 49 Lycée Renaudeau | Cholet
lycee public 49 Lycée Jean-Bodin | Les Ponts-de-Cé
lycee public 49 Lycée Duplessis-Mornay | Saumur
lycee public 49 Lycée Sadi-Carnot | Saumur
lycee-pro public 49 Lycée professionnel La Roseraie | Angers
lycee-pro public 49 Lycée professionnel Paul-Émile-Victor | Avrillé
lycee-pro public 49 Lycée professionnel de Narcé | Brain-sur-l'Authion
lycee-pro public 49 Lycée professionnel Jean-Bertin | Saumur
lycee public 53 Lycée polyvalent Raoul-Vadepied* | Évron
lycee public 53 Lycée Ambroise-Paré | Laval
lycee public 53 Lycée Réaumur | Laval
lycee public 53 Lycée Victor-Hugo | Château-Gontier-sur-Mayenne
lycee-pro public 53 Lycée professionnel Robert-Buron | Laval
lycee public 72 Lycée Touchard | Le Mans
lycee public 72 Lycée Bellevue | Le Mans
lycee public 72 Lycée Montesquieu | Le Mans
lycee public 72 Lycée André-Malraux | Allonnes
lycee public 72 Lycée Robert-Garnier | La Ferté-Bernard
lycee public 72 Lycée d'Estournelles-de-Constant | La Flèche
lycee public 72 Lycée Perseigne | Mamers
lycee-pro public 72 Lycée professionnel Claude-Chappe | Arnage
lycee-pro public 72 Lycée professionnel Washington | Le Mans
lycee-pro public 72 Lycée professionnel Funay-Hélène-Boucher* | Le Mans
lycee public 85 Lycée De Lattre-de-Tassigny | La Roche-sur-Yon
lycee public 85 Lycée Alfred-Kastler | La Roche-sur-Yon
lycee public 85 Lycée Pierre-Mendès-France | La Roche-sur-Yon
lycee public 85 Lycée Jean-Monnet | Les Herbiers
lycee public 85 Lycée Savary-de-Mauléon* | Les Sables-d'Olonne
lycee-pro public 85 Lycée professionnel René-Couzinet | Challans
lycee-pro public 85 Lycée professionnel Édouard-Guitton | La Roche-sur-Yon
lycee-pro public 85 Lycée professionnel Valère-Mathé | Les Sables-d'Olonne
erea public 85 EREA | Les Sables-d'Olonne
"""


def named_elyco():
    out = []
    for line in NAMED.strip().splitlines():
        head, commune = line.split(" | ")
        kind, secteur, dep, nom = head.split(" ", 3)
        pilote = nom.endswith("*")
        out.append({"kind": kind, "secteur": secteur, "dep": dep,
                    "nom": nom.rstrip("*"), "commune": commune, "pilote": pilote})
    return out


def elyco() -> dict:
    """The CSV text of each partner: the région's lycées, each département's collèges."""
    rng = random.Random("oent e-lyco")
    uais = Uais(1000)
    named = named_elyco()
    everyone = []  # dicts with kind, secteur, dep, nom, commune, pilote, vague
    for n in named:
        n["vague"] = WAVES[0]
        everyone.append(n)
    generated = []
    for dep, (col_pub, col_priv, lyc_pub, lyc_priv) in ELYCO_COUNTS.items():
        communes = [commune_name(c) for c in ELYCO_COMMUNES[dep].split()]
        wanted = {("college", "public"): col_pub, ("college", "prive"): col_priv,
                  ("lycee", "public"): lyc_pub, ("lycee", "prive"): lyc_priv}
        used = {(n["nom"], n["commune"]) for n in named}
        for (level, secteur), count in wanted.items():
            have = sum(1 for n in named if n["dep"] == dep and n["secteur"] == secteur
                       and (n["kind"] == "college") == (level == "college"))
            names = list(SAINTS if secteur == "prive" else NAMESAKES)
            rng.shuffle(names)
            names = Names(names)
            for i in range(have, count):
                if level == "college":
                    kind, prefix = "college", "Collège"
                elif i % 3 == 2:
                    kind, prefix = "lycee-pro", "Lycée professionnel"
                else:
                    kind, prefix = "lycee", "Lycée"
                commune = communes[(i * 7 + len(secteur)) % len(communes)]
                name = names.take(commune, used, prefix + " ")
                entry = {"kind": kind, "secteur": secteur, "dep": dep,
                         "nom": name, "commune": commune, "pilote": False}
                if level == "college" and i - have < NAMED_LATER.get((dep, secteur), 0):
                    entry["vague"] = WAVES[0]
                    everyone.append(entry)
                else:
                    generated.append(entry)
    # The generated ones take the places left in each wave, public and
    # private apart, in a seeded random order.
    for secteur, waves in (("public", WAVE_PUBLIC), ("prive", WAVE_PRIVATE)):
        slots = []
        for wave, count in zip(WAVES, waves):
            taken = sum(1 for n in everyone if n["secteur"] == secteur and n["vague"] == wave)
            slots += [wave] * (count - taken)
        pool = [g for g in generated if g["secteur"] == secteur]
        assert len(pool) == len(slots), (secteur, len(pool), len(slots))
        rng.shuffle(slots)
        for g, wave in zip(pool, slots):
            g["vague"] = wave
        everyone += pool
    assert len(everyone) == 732
    assert sum(1 for n in everyone if n["secteur"] == "public") == 370
    for n in everyone:
        n["uai"] = uais.take(n["dep"])

    header = HEADER + ["vague", "pilote"]
    row = lambda n: (n["uai"], n["nom"], n["kind"], n["commune"], n["dep"], n["secteur"],
                     n["vague"], "oui" if n["pilote"] else "")
    out = {"pays-de-la-loire": csv_text(header, sorted(row(n) for n in everyone
                                                      if n["kind"] != "college"))}
    for dep, slug in ELYCO_DEPS.items():
        out[slug] = csv_text(header, sorted(row(n) for n in everyone
                                            if n["kind"] == "college" and n["dep"] == dep))
    return out


# ---------------------------------------------------------------------------
# Essonne: the département's 100 collèges publics on one server.

ESSONNE_COMMUNES = """Évry-Courcouronnes Corbeil-Essonnes Massy Palaiseau Orsay Les-Ulis
    Savigny-sur-Orge Sainte-Geneviève-des-Bois Étampes Brétigny-sur-Orge Draveil Viry-Châtillon
    Juvisy-sur-Orge Montgeron Yerres Brunoy Dourdan Arpajon Longjumeau Athis-Mons Ris-Orangis
    Grigny Gif-sur-Yvette Vigneux-sur-Seine Chilly-Mazarin Morangis Épinay-sur-Orge Mennecy
    Milly-la-Forêt Égly Saint-Michel-sur-Orge Fleury-Mérogis Lisses Quincy-sous-Sénart
    Crosne Limours Angerville Méréville Bondoufle Marcoussis Igny Bures-sur-Yvette
    Verrières-le-Buisson Saint-Chéron Breuillet Lardy Itteville Ballancourt-sur-Essonne""".split()


def essonne() -> str:
    rng = random.Random("oent essonne")
    uais = Uais(1500)
    names = list(NAMESAKES)
    rng.shuffle(names)
    names = Names(names)
    used = set()
    rows = []
    for i in range(100):
        commune = commune_name(ESSONNE_COMMUNES[(i * 5) % len(ESSONNE_COMMUNES)])
        name = names.take(commune, used)
        rows.append((uais.take("91"), f"Collège {name}", "college", commune, "91", "public"))
    return csv_text(HEADER, sorted(rows))


def outputs() -> dict:
    files = {ROOT / "examples/ile-de-france/etablissements.csv": idf(),
             ROOT / "examples/essonne-colleges/etablissements.csv": essonne()}
    for slug, text in elyco().items():
        files[ROOT / "examples/e-lyco" / slug / "etablissements.csv"] = text
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a committed CSV differs")
    args = parser.parse_args()
    stale = []
    for path, text in outputs().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path.relative_to(ROOT))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'differs' if args.check else 'wrote'}: {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
