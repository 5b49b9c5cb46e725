"""The labelled story set: every article page of ``tests/sites_stories`` and its story.

Texts are invented press prose modelled on real cluster news (go-cluster calls, GOLD labels,
CLIB posts); people and most organisations are fictional. ``make_sites.py`` renders each
page into its source's real page chrome and writes ``labels.json`` from ``STORIES`` and
``NEGATIVES``.

Body items: plain text is a paragraph, ``## …`` a subheading, a string starting with ``<``
raw HTML (links, lists).
"""

from __future__ import annotations

from dataclasses import dataclass

CP = "https://www.clusterplattform.de/CLUSTER/Redaktion/DE/Kurzmeldungen/Aktuelles"
OPR = "https://www.openpr.de/news"
BMWE = "https://www.bundeswirtschaftsministerium.de/Redaktion/DE/Pressemitteilungen"
CLIB = "https://www.clib-cluster.de"


@dataclass(frozen=True)
class Page:
    story: str
    source: str  # clusterplattform | openpr | bmwe | clib
    url: str
    published: str  # Europe/Berlin wall time, ISO
    title: str
    body: tuple[str, ...]
    subtitle: str = ""  # clusterplattform subtitle
    teaser: str = ""  # feed/listing summary (default: start of the first paragraph)
    caption: str = ""  # image caption (furniture)
    credit: str = ""  # image credit (furniture)
    org: str = ""  # openPR issuer; clusterplattform "Quelle"
    contact: tuple[str, ...] = ()  # openPR Pressekontakt box
    about: str = ""  # openPR company box
    alternate: str = ""  # clib: the other language version, linked by hreflang
    tag: str = ""  # bmwe topic tag / clib category / clusterplattform topics


# -- shared texts -------------------------------------------------------------------------

S04_DE = (
    "Mit dem neuen Programm „BioScaleUp NRW“ unterstützt CLIB – Cluster industrielle "
    "Biotechnologie junge Unternehmen dabei, biobasierte Verfahren vom Labor in den "
    "industriellen Maßstab zu bringen. Bis zu zwölf Start-ups pro Jahr erhalten Zugang zu "
    "Pilotanlagen bei Mitgliedsunternehmen und Forschungseinrichtungen, ein individuelles "
    "Mentoring sowie Unterstützung bei der Suche nach Investoren.",
    "Gerade der Schritt vom Litermaßstab zur Produktion im Kubikmetermaßstab scheitert häufig "
    "an fehlender Infrastruktur und an den hohen Kosten für Versuchsreihen. Hier setzt das "
    "Programm an: Die Teilnehmenden können Fermenter, Aufreinigungsanlagen und Analytik zu "
    "vergünstigten Konditionen nutzen und werden von erfahrenen Verfahrensingenieurinnen und "
    "-ingenieuren aus dem Netzwerk begleitet.",
    "„Wir haben in Nordrhein-Westfalen eine hervorragende Gründerszene in der Biotechnologie. "
    "Was oft fehlt, ist der Zugang zu Anlagen, um die Verfahren zu skalieren“, sagt Dr. Lena "
    "Vogt, Geschäftsführerin von CLIB. „Mit BioScaleUp NRW öffnen unsere Mitglieder ihre "
    "Türen für die nächste Generation.“",
    "Bewerbungen für die erste Runde sind bis zum 15. September 2024 möglich. Das Programm "
    "wird vom Land Nordrhein-Westfalen gefördert.",
)
S04_EN = (
    "With its new programme “BioScaleUp NRW”, CLIB – Cluster Industrial Biotechnology helps "
    "young companies take bio-based processes from the laboratory to industrial scale. Up to "
    "twelve start-ups per year gain access to pilot plants at member companies and research "
    "institutes, individual mentoring and support in finding investors.",
    "The step from litre scale to production in cubic metres often fails because of missing "
    "infrastructure and the high cost of test runs. This is where the programme comes in: "
    "participants can use fermenters, purification plants and analytics at reduced rates and "
    "are accompanied by experienced process engineers from the network.",
    "“North Rhine-Westphalia has an excellent biotech start-up scene. What is often missing is "
    "access to plants to scale up the processes,” says Dr Lena Vogt, Managing Director of "
    "CLIB. “With BioScaleUp NRW, our members open their doors to the next generation.”",
    "Applications for the first round are open until 15 September 2024. The programme is "
    "funded by the state of North Rhine-Westphalia.",
)

S05_REST = (
    "Hersteller von Gesundheits-Apps und telemedizinischen Anwendungen können ihre Produkte "
    "dort gemeinsam mit Ärztinnen, Pflegekräften und Patientinnen testen, bevor sie beim "
    "Bundesinstitut für Arzneimittel und Medizinprodukte die Aufnahme in das Verzeichnis "
    "digitaler Gesundheitsanwendungen beantragen. Das Testzentrum bietet dafür "
    "Studiendesigns, eine Ethikberatung und eine datenschutzkonforme Testumgebung an.",
    "In der Startphase stehen Plätze für 15 Studien pro Jahr zur Verfügung. Vier Unternehmen "
    "aus dem Netzwerk haben bereits Studien angemeldet, darunter ein Anbieter einer App zur "
    "Nachsorge nach Knieoperationen.",
    "„Viele kleine Medizintechnikunternehmen scheitern nicht an der Idee, sondern am Nachweis "
    "des Nutzens“, sagt Clustermanagerin Dr. Sabine Roth. „Mit dem Testzentrum verkürzen wir "
    "diesen Weg deutlich.“",
)

S08_DE = (
    "CLIB koordiniert das neue EU-Projekt BIOLOOP, in dem zwölf Partner aus sechs Ländern "
    "Klebstoffe aus Reststoffen der Lebensmittel- und Papierindustrie entwickeln. Das Projekt "
    "wird im Rahmen des Programms Circular Bio-based Europe mit 5,8 Millionen Euro gefördert "
    "und läuft vier Jahre.",
    "Ziel ist es, erdölbasierte Bindemittel in Verpackungen, Möbeln und Etiketten durch "
    "biobasierte Alternativen zu ersetzen. Ausgangsstoffe sind unter anderem Lignin aus der "
    "Zellstoffherstellung und Proteine aus Rapspresskuchen, die bislang überwiegend verbrannt "
    "oder verfüttert werden.",
    "Neben Forschungseinrichtungen aus Belgien, den Niederlanden, Finnland, Spanien und Italien "
    "sind fünf Unternehmen beteiligt, darunter zwei CLIB-Mitglieder aus Nordrhein-Westfalen. "
    "CLIB übernimmt das Projektmanagement und baut eine Plattform auf, über die Anwender aus "
    "der Industrie früh Muster testen können.",
)
S08_EN = (
    "CLIB coordinates the new EU project BIOLOOP, in which twelve partners from six countries "
    "develop adhesives from residues of the food and paper industries. The project receives "
    "5.8 million euros from the Circular Bio-based Europe programme and runs for four years.",
    "The aim is to replace petroleum-based binders in packaging, furniture and labels with "
    "bio-based alternatives. Feedstocks include lignin from pulp production and proteins from "
    "rapeseed press cake, which have so far mostly been burned or used as animal feed.",
    "Alongside research institutes from Belgium, the Netherlands, Finland, Spain and Italy, five "
    "companies take part, two of them CLIB members from North Rhine-Westphalia. CLIB manages "
    "the project and sets up a platform through which industrial users can test samples early.",
)

S12_BODY = (
    "Der Kompetenzcluster Photonik Jena ist mit dem GOLD-Label der European Cluster Excellence "
    "Initiative ausgezeichnet worden. Das Siegel bescheinigt dem Clustermanagement eine Arbeit "
    "auf europäischem Spitzenniveau; bundesweit tragen es derzeit nur rund drei Dutzend "
    "Clusterorganisationen.",
    "Grundlage der Auszeichnung war eine zweitägige Begutachtung durch das European Secretariat "
    "for Cluster Analysis. Die Gutachter hoben besonders die internationale Ausrichtung hervor: "
    "Seit 2022 hat der Cluster Kooperationen mit Optik-Netzwerken in Frankreich, Kanada und "
    "Südkorea aufgebaut und mehr als 30 Mitgliedsunternehmen bei Messeauftritten im Ausland "
    "begleitet.",
    "Dem Kompetenzcluster gehören 96 Unternehmen, Hochschulen und Forschungseinrichtungen aus "
    "Thüringen an. „Das GOLD-Label ist eine Anerkennung für unsere Mitglieder, die sich Jahr "
    "für Jahr in gemeinsamen Projekten engagieren“, sagt Clustermanager Tobias Ehrlich.",
)

S17_ABOUT = (
    "Über den Cluster Sensorik Ostbayern: Der Cluster Sensorik Ostbayern vernetzt seit 2009 "
    "mehr als 140 Unternehmen, Hochschulen und Forschungseinrichtungen aus Niederbayern und der "
    "Oberpfalz, die Sensoren, Messtechnik und darauf aufbauende Dienstleistungen entwickeln. "
    "Das Clustermanagement mit Sitz in Regensburg organisiert Fachforen, Gemeinschaftsstände "
    "auf Messen und Verbundprojekte und unterstützt seine Mitglieder bei der Suche nach "
    "Fachkräften und Fördermitteln. Der Cluster ist Mitglied im Programm „go-cluster“ des "
    "Bundes und wird vom Freistaat Bayern gefördert."
)

S22_DE = (
    "CLIB hat ein Positionspapier zur Fortschreibung der Nationalen Bioökonomiestrategie "
    "veröffentlicht. Darin fordert das Netzwerk unter anderem schnellere Genehmigungsverfahren "
    "für Demonstrationsanlagen, eine verlässliche Förderung der Skalierung und Quoten für "
    "biobasierte Produkte in der öffentlichen Beschaffung.",
    "Das Papier ist in den vergangenen Monaten in drei Workshops mit Mitgliedern aus Industrie, "
    "Mittelstand und Wissenschaft entstanden. Besonders wichtig ist den Mitgliedern, dass "
    "Reststoffe aus Landwirtschaft und Industrie rechtlich einfacher als Rohstoffe genutzt "
    "werden können.",
    "Das Positionspapier steht auf unserer Website zum Download bereit.",
)
S23_EN = (
    "CLIB has published a position paper on the update of Germany’s National Bioeconomy "
    "Strategy. The network calls, among other things, for faster permitting of demonstration "
    "plants, reliable funding for scale-up and quotas for bio-based products in public "
    "procurement.",
    "The paper was developed over the past months in three workshops with members from "
    "industry, SMEs and academia. Members consider it particularly important that residues "
    "from agriculture and industry can be used as raw materials with less red tape.",
    "The position paper can be downloaded from our website.",
)

CONTACT_CLIB = (
    "CLIB – Cluster industrielle Biotechnologie e.V.",
    "Katrin Brenner, Kommunikation",
    "Völklinger Straße 4",
    "40219 Düsseldorf",
    "Tel.: +49 211 385469-215",
    "E-Mail: presse@clib-cluster.de",
)

# -- the pages ----------------------------------------------------------------------------

PAGES: tuple[Page, ...] = (
    # s01 — full copies: ministry release, clusterplattform copy with its own furniture
    Page(
        "s01",
        "bmwe",
        f"{BMWE}/2023/06/20230614-cluster-fuer-die-waermewende.html",
        "2023-06-14T10:00",
        "Cluster für die Wärmewende: Bund startet Netzwerkinitiative „Wärme.Cluster“",
        (
            "Das Bundesministerium für Wirtschaft und Klimaschutz (BMWK) startet die "
            "Netzwerkinitiative „Wärme.Cluster“. Sie bringt Innovationscluster aus Gebäudetechnik, "
            "Energiewirtschaft und Handwerk zusammen, damit neue Lösungen für klimafreundliches "
            "Heizen schneller in die Breite kommen.",
            "In der ersten Phase beteiligen sich 18 Clustermanagement-Organisationen aus elf "
            "Ländern. Sie wollen gemeinsam Schulungsangebote für Installationsbetriebe entwickeln, "
            "Pilotprojekte für Wärmepumpen in Mehrfamilienhäusern begleiten und Erfahrungen mit "
            "der "
            "kommunalen Wärmeplanung austauschen.",
            "„Die Wärmewende gelingt nur, wenn Hersteller, Handwerk, Stadtwerke und Forschung an "
            "einem Strang ziehen. Genau das leisten Cluster in ihren Regionen“, sagte "
            "Staatssekretärin Dr. Anja Hartmann zum Auftakt in Berlin.",
            "Die Initiative ist zunächst auf drei Jahre angelegt und wird im Rahmen des Programms "
            "„go-cluster“ von der VDI/VDE Innovation + Technik GmbH koordiniert. Weitere Cluster "
            "können sich bis zum 30. September 2023 um eine Teilnahme bewerben.",
        ),
        teaser="18 Clustermanagement-Organisationen aus elf Ländern entwickeln gemeinsam Angebote "
        "für klimafreundliches Heizen.",
        caption="Installation einer Wärmepumpe in einem Mehrfamilienhaus",
        credit="© BMWK/Dominik Butzmann",
        tag="Energie",
    ),
    Page(
        "s01",
        "clusterplattform",
        f"{CP}/2023/2_quartal/20230615_cluster_fuer_die_waermewende.html",
        "2023-06-15T09:30",
        "Cluster für die Wärmewende: Bund startet Netzwerkinitiative „Wärme.Cluster“",
        (
            "Das Bundesministerium für Wirtschaft und Klimaschutz (BMWK) startet die "
            "Netzwerkinitiative „Wärme.Cluster“. Sie bringt Innovationscluster aus Gebäudetechnik, "
            "Energiewirtschaft und Handwerk zusammen, damit neue Lösungen für klimafreundliches "
            "Heizen schneller in die Breite kommen.",
            "In der ersten Phase beteiligen sich 18 Clustermanagement-Organisationen aus elf "
            "Ländern. Sie wollen gemeinsam Schulungsangebote für Installationsbetriebe entwickeln, "
            "Pilotprojekte für Wärmepumpen in Mehrfamilienhäusern begleiten und Erfahrungen mit "
            "der "
            "kommunalen Wärmeplanung austauschen.",
            "„Die Wärmewende gelingt nur, wenn Hersteller, Handwerk, Stadtwerke und Forschung an "
            "einem Strang ziehen. Genau das leisten Cluster in ihren Regionen“, sagte "
            "Staatssekretärin Dr. Anja Hartmann zum Auftakt in Berlin.",
            "Die Initiative ist zunächst auf drei Jahre angelegt und wird im Rahmen des Programms "
            "„go-cluster“ von der VDI/VDE Innovation + Technik GmbH koordiniert. Weitere Cluster "
            "können sich bis zum 30. September 2023 um eine Teilnahme bewerben.",
        ),
        subtitle="18 Clustermanagement-Organisationen aus elf Ländern beteiligt",
        caption="Auftaktveranstaltung der Netzwerkinitiative in Berlin",
        credit="© VDI/VDE-IT",
        org="Bundesministerium für Wirtschaft und Klimaschutz",
        tag="go-cluster, Energie",
    ),
    # s02 — teaser copy: clusterplattform repeats the first paragraph and links the original
    Page(
        "s02",
        "bmwe",
        f"{BMWE}/2022/04/20220406-foerderaufruf-internationale-clusterkooperationen.html",
        "2022-04-06T11:00",
        "Neuer Förderaufruf: Bund unterstützt internationale Clusterkooperationen",
        (
            "Das Bundesministerium für Wirtschaft und Klimaschutz (BMWK) hat heute einen "
            "Förderaufruf für internationale Clusterkooperationen veröffentlicht. "
            "Innovationscluster "
            "aus Deutschland können gemeinsam mit Partnerclustern aus Europa, Nordamerika und "
            "Asien "
            "Projekte beantragen, die kleinen und mittleren Unternehmen den Zugang zu neuen "
            "Märkten "
            "und Technologiepartnern erleichtern. Für die erste Förderrunde stehen insgesamt acht "
            "Millionen Euro bereit; je Cluster kann ein Vorhaben beantragt werden.",
            "Gefördert werden unter anderem gemeinsame Delegationsreisen, Matchmaking-Formate und "
            "der "
            "Aufbau grenzüberschreitender Wertschöpfungsketten. Je Vorhaben stehen bis zu 300.000 "
            "Euro für eine Laufzeit von höchstens zwei Jahren zur Verfügung.",
            "Anträge können bis zum 15. Juni 2022 beim Projektträger eingereicht werden. "
            "Antragsberechtigt sind Clustermanagement-Organisationen mit Sitz in Deutschland, die "
            "seit mindestens drei Jahren aktiv sind. Eine Informationsveranstaltung findet am "
            "3. Mai 2022 online statt.",
            "„Internationale Partnerschaften sind für viele Mittelständler der Schlüssel zu "
            "widerstandsfähigen Lieferketten. Cluster können ihnen diese Türen öffnen“, erklärte "
            "Staatssekretär Dr. Jonas Wendland.",
        ),
        teaser="Innovationscluster können mit Partnerclustern aus dem Ausland Projekte für den "
        "Mittelstand beantragen.",
        caption="Delegation eines Innovationsclusters auf einer Fachmesse in Toronto",
        credit="© BMWK/Andreas Mertens",
        tag="Außenwirtschaft",
    ),
    Page(
        "s02",
        "clusterplattform",
        f"{CP}/2022/2_quartal/20220407_foerderaufruf_internationale_clusterkooperationen.html",
        "2022-04-07T10:00",
        "BMWK: Neuer Förderaufruf für internationale Clusterkooperationen",
        (
            "Das Bundesministerium für Wirtschaft und Klimaschutz (BMWK) hat heute einen "
            "Förderaufruf für internationale Clusterkooperationen veröffentlicht. "
            "Innovationscluster "
            "aus Deutschland können gemeinsam mit Partnerclustern aus Europa, Nordamerika und "
            "Asien "
            "Projekte beantragen, die kleinen und mittleren Unternehmen den Zugang zu neuen "
            "Märkten "
            "und Technologiepartnern erleichtern. Für die erste Förderrunde stehen insgesamt acht "
            "Millionen Euro bereit; je Cluster kann ein Vorhaben beantragt werden.",
            f'<p>Mehr: <a href="{BMWE}/2022/04/20220406-foerderaufruf-internationale-'
            'clusterkooperationen.html" class="RichTextExtLink External">Neuer Förderaufruf: Bund '
            "unterstützt internationale Clusterkooperationen</a></p>",
        ),
        subtitle="Antragsfrist 15. Juni 2022",
        org="Bundesministerium für Wirtschaft und Klimaschutz",
        tag="Internationalisierung",
    ),
    # s03 — openPR prefix + Pressekontakt inside the body; clusterplattform copy without both
    Page(
        "s03",
        "openpr",
        f"{OPR}/1226045/Cluster-Kunststofftechnik-Thueringen-eroeffnet-Recycling-Technikum-in-"
        "Rudolstadt.html",
        "2024-05-22T09:15",
        "Cluster Kunststofftechnik Thüringen eröffnet Recycling-Technikum in Rudolstadt",
        (
            "(openPR) - Rudolstadt, 22. Mai 2024 - Der Cluster Kunststofftechnik Thüringen hat in "
            "Rudolstadt ein Technikum für das werkstoffliche Recycling von Kunststoffabfällen "
            "eröffnet. Auf 800 Quadratmetern stehen Anlagen zum Sortieren, Waschen, Mahlen und "
            "Regranulieren bereit, die Mitgliedsunternehmen für eigene Versuchsreihen nutzen "
            "können.",
            "Vor allem kleine Spritzgießer und Folienhersteller sollen davon profitieren. Sie "
            "müssen künftig höhere Rezyklatanteile in ihren Produkten nachweisen, verfügen aber "
            "selten über eigene Versuchsanlagen. Im Technikum können sie testen, wie sich "
            "Rezyklate unterschiedlicher Qualität in ihren Prozessen verhalten.",
            "Das Technikum wurde mit 3,4 Millionen Euro aus Mitteln des Freistaats Thüringen und "
            "der Europäischen Union gefördert. Betrieben wird es gemeinsam mit dem Thüringischen "
            "Institut für Textil- und Kunststoff-Forschung.",
            "„Kreislaufwirtschaft beginnt in der Werkhalle. Mit dem Technikum geben wir unseren "
            "Mitgliedern die Möglichkeit, den Umstieg auf Rezyklate ohne großes Risiko "
            "vorzubereiten“, sagt Clustermanager Frank Seidel.",
            "Pressekontakt: Cluster Kunststofftechnik Thüringen, Anne Köhler, Breitscheidstraße "
            "97, "
            "07407 Rudolstadt, Tel.: +49 3672 379-120, E-Mail: "
            "presse@kunststoffcluster-thueringen.de",
        ),
        caption="Regranulieranlage im neuen Technikum",
        credit="Bildquelle: © Cluster Kunststofftechnik Thüringen",
        org="Cluster Kunststofftechnik Thüringen",
        contact=(
            "Cluster Kunststofftechnik Thüringen",
            "Anne Köhler",
            "Breitscheidstraße 97",
            "07407 Rudolstadt",
            "Tel.: +49 3672 379-120",
            "E-Mail: presse@kunststoffcluster-thueringen.de",
        ),
    ),
    Page(
        "s03",
        "clusterplattform",
        f"{CP}/2024/2_quartal/20240524_kunststoffcluster_thueringen_recycling_technikum.html",
        "2024-05-24T10:00",
        "Cluster Kunststofftechnik Thüringen eröffnet Recycling-Technikum in Rudolstadt",
        (
            "Der Cluster Kunststofftechnik Thüringen hat in Rudolstadt ein Technikum für das "
            "werkstoffliche Recycling von Kunststoffabfällen eröffnet. Auf 800 Quadratmetern "
            "stehen "
            "Anlagen zum Sortieren, Waschen, Mahlen und Regranulieren bereit, die "
            "Mitgliedsunternehmen für eigene Versuchsreihen nutzen können.",
            "Vor allem kleine Spritzgießer und Folienhersteller sollen davon profitieren. Sie "
            "müssen künftig höhere Rezyklatanteile in ihren Produkten nachweisen, verfügen aber "
            "selten über eigene Versuchsanlagen. Im Technikum können sie testen, wie sich "
            "Rezyklate unterschiedlicher Qualität in ihren Prozessen verhalten.",
            "Das Technikum wurde mit 3,4 Millionen Euro aus Mitteln des Freistaats Thüringen und "
            "der Europäischen Union gefördert. Betrieben wird es gemeinsam mit dem Thüringischen "
            "Institut für Textil- und Kunststoff-Forschung.",
            "„Kreislaufwirtschaft beginnt in der Werkhalle. Mit dem Technikum geben wir unseren "
            "Mitgliedern die Möglichkeit, den Umstieg auf Rezyklate ohne großes Risiko "
            "vorzubereiten“, sagt Clustermanager Frank Seidel.",
        ),
        subtitle="Versuchsanlagen für kleine und mittlere Kunststoffverarbeiter",
        caption="Regranulieranlage im neuen Technikum",
        credit="© Cluster Kunststofftechnik Thüringen",
        org="Cluster Kunststofftechnik Thüringen",
        tag="Kreislaufwirtschaft",
    ),
    # s04 — openPR copy of a CLIB post (prefix + contact box) and the post's DE/EN versions
    Page(
        "s04",
        "openpr",
        f"{OPR}/1229871/CLIB-startet-Scale-up-Programm-fuer-biobasierte-Start-ups.html",
        "2024-06-18T10:30",
        "CLIB startet Scale-up-Programm für biobasierte Start-ups",
        ("(openPR) - Düsseldorf, 18. Juni 2024 - " + S04_DE[0], *S04_DE[1:]),
        caption="Pilotfermenter bei einem CLIB-Mitglied",
        credit="Bildquelle: © CLIB",
        org="CLIB – Cluster industrielle Biotechnologie e.V.",
        contact=CONTACT_CLIB,
        about="CLIB – Cluster industrielle Biotechnologie e.V. ist ein internationales Netzwerk "
        "von "
        "mehr als 110 Unternehmen, Hochschulen und Forschungseinrichtungen der Bioökonomie mit "
        "Sitz in Düsseldorf.",
    ),
    Page(
        "s04",
        "clib",
        f"{CLIB}/de/clib-startet-scale-up-programm-fuer-biobasierte-start-ups/",
        "2024-06-18T09:00",
        "CLIB startet Scale-up-Programm für biobasierte Start-ups",
        S04_DE,
        caption="Pilotfermenter bei einem CLIB-Mitglied",
        credit="© CLIB",
        alternate=f"{CLIB}/en/clib-launches-scale-up-programme-for-bio-based-start-ups/",
        tag="Netzwerk",
    ),
    Page(
        "s04",
        "clib",
        f"{CLIB}/en/clib-launches-scale-up-programme-for-bio-based-start-ups/",
        "2024-06-18T09:00",
        "CLIB launches scale-up programme for bio-based start-ups",
        S04_EN,
        caption="Pilot fermenter at a CLIB member",
        credit="© CLIB",
        alternate=f"{CLIB}/de/clib-startet-scale-up-programm-fuer-biobasierte-start-ups/",
        tag="Network",
    ),
    # s05 — clusterplattform copy with a reworded lead and an extra credit line
    Page(
        "s05",
        "openpr",
        f"{OPR}/1274419/MedTech-Cluster-Rhein-Neckar-gruendet-Testzentrum-fuer-digitale-"
        "Gesundheitsanwendungen.html",
        "2025-05-06T08:30",
        "MedTech-Cluster Rhein-Neckar gründet Testzentrum für digitale Gesundheitsanwendungen",
        (
            "(openPR) - Mannheim, 6. Mai 2025 - Der MedTech-Cluster Rhein-Neckar hat gemeinsam mit "
            "dem Universitätsklinikum Mannheim ein Testzentrum für digitale Gesundheitsanwendungen "
            "gegründet.",
            *S05_REST,
        ),
        caption="Test einer Gesundheits-App im neuen Testzentrum",
        credit="Bildquelle: © MedTech-Cluster Rhein-Neckar / Jens Adler",
        org="MedTech-Cluster Rhein-Neckar e.V.",
        contact=(
            "MedTech-Cluster Rhein-Neckar e.V.",
            "Dr. Sabine Roth",
            "Theodor-Kutzer-Ufer 1-3",
            "68167 Mannheim",
            "Tel.: +49 621 383-7100",
            "E-Mail: info@medtech-rhein-neckar.de",
        ),
        about="Der MedTech-Cluster Rhein-Neckar vernetzt 85 Medizintechnikunternehmen, Kliniken "
        "und "
        "Forschungseinrichtungen der Metropolregion Rhein-Neckar.",
    ),
    Page(
        "s05",
        "clusterplattform",
        f"{CP}/2025/2_quartal/20250508_medtech_cluster_rhein_neckar_testzentrum_diga.html",
        "2025-05-08T11:00",
        "Testzentrum für digitale Gesundheitsanwendungen: MedTech-Cluster Rhein-Neckar wird aktiv",
        (
            "Wie lassen sich digitale Gesundheitsanwendungen vor der Zulassung unter realen "
            "Bedingungen erproben? Eine Antwort gibt künftig ein Testzentrum in Mannheim, das der "
            "MedTech-Cluster Rhein-Neckar, Mitglied im Programm „go-cluster“, zusammen mit dem "
            "Universitätsklinikum ins Leben gerufen hat.",
            *S05_REST,
            "Redaktioneller Hinweis: Dieser Text beruht auf einer Pressemitteilung des "
            "MedTech-Clusters Rhein-Neckar vom 6. Mai 2025.",
        ),
        subtitle="Ein „go-cluster“-Mitglied verkürzt den Weg zur Zulassung",
        caption="Test einer Gesundheits-App im neuen Testzentrum",
        credit="© MedTech-Cluster Rhein-Neckar / Jens Adler",
        org="MedTech-Cluster Rhein-Neckar",
        tag="Gesundheitswirtschaft, go-cluster",
    ),
    # s06 — ministry name differs: ministry page edited later to BMWK, clusterplattform keeps BMWi
    Page(
        "s06",
        "bmwe",
        f"{BMWE}/2021/09/20210915-cluster-sichern-fachkraefte-modellprojekte.html",
        "2021-09-15T12:00",
        "Cluster sichern Fachkräfte: 14 Modellprojekte starten",
        (
            "Das Bundesministerium für Wirtschaft und Klimaschutz (BMWK) fördert 14 "
            "Modellprojekte, "
            "in denen Innovationscluster neue Wege der Fachkräftesicherung erproben. Die Vorhaben "
            "wurden von einer unabhängigen Jury aus 41 Anträgen ausgewählt.",
            "Die Projekte reichen von gemeinsamen Ausbildungsverbünden kleiner Zulieferbetriebe "
            "über "
            "digitale Weiterbildungsplattformen bis zu Programmen, mit denen internationale "
            "Fachkräfte an Unternehmen der Region vermittelt werden. Insgesamt stehen rund "
            "4,2 Millionen Euro zur Verfügung.",
            "Beteiligt sind Cluster aus zwölf Ländern, darunter Netzwerke der Automobilzulieferer, "
            "der Medizintechnik und der Ernährungswirtschaft. Die Modellprojekte laufen bis Ende "
            "2023. Ihre Ergebnisse stellt das BMWK allen Clustermanagement-Organisationen zur "
            "Verfügung, damit erfolgreiche Ansätze schnell Nachahmer finden.",
        ),
        teaser="Innovationscluster erproben mit Förderung des Bundes neue Wege der "
        "Fachkräftesicherung.",
        caption="Auszubildende in einem mittelständischen Zulieferbetrieb",
        credit="© BMWi/Susanne Eriksson",
        tag="Fachkräfte",
    ),
    Page(
        "s06",
        "clusterplattform",
        f"{CP}/2021/3_quartal/20210916_bmwi_modellprojekte_fachkraeftesicherung.html",
        "2021-09-16T10:00",
        "BMWi: 14 Modellprojekte zur Fachkräftesicherung in Clustern starten",
        (
            "Das Bundesministerium für Wirtschaft und Energie (BMWi) fördert 14 Modellprojekte, in "
            "denen Innovationscluster neue Wege der Fachkräftesicherung erproben. Die Vorhaben "
            "wurden von einer unabhängigen Jury aus 41 Anträgen ausgewählt.",
            "Die Projekte reichen von gemeinsamen Ausbildungsverbünden kleiner Zulieferbetriebe "
            "über "
            "digitale Weiterbildungsplattformen bis zu Programmen, mit denen internationale "
            "Fachkräfte an Unternehmen der Region vermittelt werden. Insgesamt stehen rund "
            "4,2 Millionen Euro zur Verfügung.",
            "Beteiligt sind Cluster aus zwölf Ländern, darunter Netzwerke der Automobilzulieferer, "
            "der Medizintechnik und der Ernährungswirtschaft. Die Modellprojekte laufen bis Ende "
            "2023. Ihre Ergebnisse stellt das BMWi allen Clustermanagement-Organisationen zur "
            "Verfügung, damit erfolgreiche Ansätze schnell Nachahmer finden.",
        ),
        subtitle="Förderung von rund 4,2 Millionen Euro",
        caption="Logo des Programms go-cluster",
        credit="© BMWi",
        org="Bundesministerium für Wirtschaft und Energie",
        tag="Fachkräfte, go-cluster",
    ),
    # s07 — DE/EN pair on clib, linked by hreflang (a call for posters)
    Page(
        "s07",
        "clib",
        f"{CLIB}/de/clib-international-conference-2025-aufruf-zur-posterpraesentation/",
        "2024-09-24T10:00",
        "CLIB International Conference 2025: Aufruf zur Posterpräsentation",
        (
            "Am 4. und 5. Februar 2025 findet in Düsseldorf die CLIB International Conference "
            "statt. Unter dem Motto „Biomanufacturing at Scale“ diskutieren Fachleute aus "
            "Industrie und Wissenschaft, wie biotechnologische Verfahren den Sprung in die "
            "industrielle Produktion schaffen.",
            "Nachwuchswissenschaftlerinnen und -wissenschaftler sowie Start-ups sind eingeladen, "
            "ihre Arbeiten in einer Postersession vorzustellen. Die drei besten Poster werden mit "
            "dem CLIB Poster Award ausgezeichnet, der mit insgesamt 3.000 Euro dotiert ist.",
            "Abstracts von höchstens 300 Wörtern können bis zum 15. November 2024 über das "
            "Konferenzportal eingereicht werden. Die Auswahl wird bis Mitte Dezember bekannt "
            "gegeben.",
        ),
        caption="Postersession der CLIB International Conference",
        credit="© CLIB/Ralf Baumgarten",
        alternate=f"{CLIB}/en/clib-international-conference-2025-call-for-posters/",
        tag="Veranstaltungen",
    ),
    Page(
        "s07",
        "clib",
        f"{CLIB}/en/clib-international-conference-2025-call-for-posters/",
        "2024-09-24T10:00",
        "CLIB International Conference 2025: Call for posters",
        (
            "The CLIB International Conference takes place in Düsseldorf on 4 and 5 February 2025. "
            "Under the motto “Biomanufacturing at Scale”, experts from industry and academia will "
            "discuss how biotechnological processes can make the leap into industrial production.",
            "Early-career researchers and start-ups are invited to present their work in a poster "
            "session. The three best posters will receive the CLIB Poster Award, endowed with a "
            "total of 3,000 euros.",
            "Abstracts of no more than 300 words can be submitted via the conference portal until "
            "15 November 2024. The selection will be announced by mid-December.",
        ),
        caption="Poster session at the CLIB International Conference",
        credit="© CLIB/Ralf Baumgarten",
        alternate=f"{CLIB}/de/clib-international-conference-2025-aufruf-zur-posterpraesentation/",
        tag="Events",
    ),
    # s08 — DE/EN pair on clib (hreflang) plus a clusterplattform copy of the German text
    Page(
        "s08",
        "clib",
        f"{CLIB}/de/clib-koordiniert-eu-projekt-bioloop/",
        "2024-02-06T09:30",
        "CLIB koordiniert EU-Projekt BIOLOOP zu biobasierten Klebstoffen",
        S08_DE,
        caption="Lignin aus der Zellstoffherstellung",
        credit="© CLIB",
        alternate=f"{CLIB}/en/clib-coordinates-eu-project-bioloop/",
        tag="Europa",
    ),
    Page(
        "s08",
        "clib",
        f"{CLIB}/en/clib-coordinates-eu-project-bioloop/",
        "2024-02-06T09:30",
        "CLIB coordinates EU project BIOLOOP on bio-based adhesives",
        S08_EN,
        caption="Lignin from pulp production",
        credit="© CLIB",
        alternate=f"{CLIB}/de/clib-koordiniert-eu-projekt-bioloop/",
        tag="Europe",
    ),
    Page(
        "s08",
        "clusterplattform",
        f"{CP}/2024/1_quartal/20240208_clib_koordiniert_eu_projekt_bioloop.html",
        "2024-02-08T10:30",
        "CLIB koordiniert EU-Projekt BIOLOOP zu biobasierten Klebstoffen",
        S08_DE,
        subtitle="Zwölf Partner aus sechs Ländern entwickeln Klebstoffe aus Reststoffen",
        caption="Lignin aus der Zellstoffherstellung",
        credit="© CLIB",
        org="CLIB – Cluster industrielle Biotechnologie",
        tag="Bioökonomie, Europa",
    ),
    # s09 — ministry original without any cluster word; the clusterplattform copy is cluster news
    Page(
        "s09",
        "bmwe",
        f"{BMWE}/2024/11/20241120-wasserstoff-reallabore-mitteldeutschland.html",
        "2024-11-20T13:00",
        "Sechs Wasserstoff-Reallabore in Mitteldeutschland erhalten Förderzusage",
        (
            "Das Bundesministerium für Wirtschaft und Klimaschutz (BMWK) fördert sechs neue "
            "Reallabore zur industriellen Nutzung von grünem Wasserstoff in Sachsen, "
            "Sachsen-Anhalt und Thüringen. Die Förderbescheide über insgesamt 86 Millionen Euro "
            "wurden heute in Leuna übergeben.",
            "In den Reallaboren erproben Chemieunternehmen, Glashütten und Stahlverarbeiter "
            "gemeinsam mit Forschungseinrichtungen, wie sich Erdgas in Hochtemperaturprozessen "
            "durch "
            "Wasserstoff ersetzen lässt. Zu den Vorhaben gehören ein Elektrolyseur mit 30 Megawatt "
            "Leistung am Chemiestandort Leuna und eine Versuchsanlage für wasserstoffbeheizte "
            "Glasschmelzwannen in der Lausitz.",
            "Die Projekte laufen bis 2028. Ihre Ergebnisse fließen in die weitere Förderung der "
            "Reallabore der Energiewende ein.",
        ),
        teaser="Förderbescheide über 86 Millionen Euro für die industrielle Nutzung von grünem "
        "Wasserstoff übergeben.",
        caption="Elektrolyseur am Chemiestandort Leuna",
        credit="© BMWK/Thomas Köhler",
        tag="Energie",
    ),
    Page(
        "s09",
        "clusterplattform",
        f"{CP}/2024/4_quartal/20241122_wasserstoff_reallabore_cluster_mitteldeutschland.html",
        "2024-11-22T09:00",
        "Wasserstoff-Reallabore in Mitteldeutschland: Clustermitglieder erhalten Förderzusage",
        (
            "Gute Nachrichten für zwei Innovationscluster aus Mitteldeutschland: An vier der sechs "
            "neuen Wasserstoff-Reallabore, die das BMWK fördert, sind Mitglieder des Clusters "
            "Chemie Mitteldeutschland und des Wasserstoffnetzwerks H2-MD maßgeblich beteiligt.",
            "Das Bundesministerium für Wirtschaft und Klimaschutz (BMWK) fördert sechs neue "
            "Reallabore zur industriellen Nutzung von grünem Wasserstoff in Sachsen, "
            "Sachsen-Anhalt und Thüringen. Die Förderbescheide über insgesamt 86 Millionen Euro "
            "wurden heute in Leuna übergeben.",
            "In den Reallaboren erproben Chemieunternehmen, Glashütten und Stahlverarbeiter "
            "gemeinsam mit Forschungseinrichtungen, wie sich Erdgas in Hochtemperaturprozessen "
            "durch "
            "Wasserstoff ersetzen lässt. Zu den Vorhaben gehören ein Elektrolyseur mit 30 Megawatt "
            "Leistung am Chemiestandort Leuna und eine Versuchsanlage für wasserstoffbeheizte "
            "Glasschmelzwannen in der Lausitz.",
            "Die Projekte laufen bis 2028. Ihre Ergebnisse fließen in die weitere Förderung der "
            "Reallabore der Energiewende ein.",
        ),
        subtitle="Vier von sechs Vorhaben mit Beteiligung aus den Clustern",
        caption="Elektrolyseur am Chemiestandort Leuna",
        credit="© BMWK/Thomas Köhler",
        org="Bundesministerium für Wirtschaft und Klimaschutz",
        tag="Wasserstoff, Netzwerke",
    ),
    # s10 — openPR original without any cluster word; the clusterplattform copy adds the cluster
    Page(
        "s10",
        "openpr",
        f"{OPR}/1265804/Verpackungsfolie-aus-Mikroalgen-Kieler-Start-up-geht-in-"
        "Serienfertigung.html",
        "2025-03-11T10:45",
        "Verpackungsfolie aus Mikroalgen: Kieler Start-up geht in Serienfertigung",
        (
            "(openPR) - Kiel, 11. März 2025 - Die Algaro Packaging GmbH startet die "
            "Serienfertigung einer kompostierbaren Verpackungsfolie aus Mikroalgen. In einer neuen "
            "Produktionshalle im Kieler Wissenschaftspark können jährlich bis zu 400 Tonnen Folie "
            "hergestellt werden.",
            "Die Folie eignet sich für Obst, Gemüse und Backwaren und zerfällt im Heimkompost "
            "innerhalb von zwölf Wochen. Die Algen werden in geschlossenen Photobioreaktoren an "
            "der "
            "Förde gezüchtet und benötigen weder Ackerland noch Süßwasser.",
            "Erste Abnehmer sind zwei norddeutsche Handelsketten, die ab Sommer Bio-Gemüse in der "
            "neuen Folie anbieten wollen. „Wir zeigen, dass nachhaltige Verpackung auch im "
            "industriellen Maßstab funktioniert“, sagt Geschäftsführerin Merle Jansen.",
        ),
        caption="Algenfolie aus der neuen Produktion",
        credit="Bildquelle: © Algaro Packaging GmbH",
        org="Algaro Packaging GmbH",
        contact=(
            "Algaro Packaging GmbH",
            "Merle Jansen",
            "Schauenburgerstraße 116",
            "24118 Kiel",
            "E-Mail: presse@algaro-packaging.de",
        ),
        about="Die Algaro Packaging GmbH wurde 2019 als Ausgründung der Universität Kiel gegründet "
        "und entwickelt Verpackungen aus Mikroalgen.",
    ),
    Page(
        "s10",
        "clusterplattform",
        f"{CP}/2025/1_quartal/20250313_maritimer_cluster_algenfolie_serienfertigung.html",
        "2025-03-13T10:00",
        "Verpackungsfolie aus Mikroalgen: Kieler Start-up geht in Serienfertigung",
        (
            "Die Algaro Packaging GmbH startet die Serienfertigung einer kompostierbaren "
            "Verpackungsfolie aus Mikroalgen. In einer neuen Produktionshalle im Kieler "
            "Wissenschaftspark können jährlich bis zu 400 Tonnen Folie hergestellt werden.",
            "Die Folie eignet sich für Obst, Gemüse und Backwaren und zerfällt im Heimkompost "
            "innerhalb von zwölf Wochen. Die Algen werden in geschlossenen Photobioreaktoren an "
            "der "
            "Förde gezüchtet und benötigen weder Ackerland noch Süßwasser.",
            "Erste Abnehmer sind zwei norddeutsche Handelsketten, die ab Sommer Bio-Gemüse in der "
            "neuen Folie anbieten wollen. „Wir zeigen, dass nachhaltige Verpackung auch im "
            "industriellen Maßstab funktioniert“, sagt Geschäftsführerin Merle Jansen.",
            "Algaro ist Mitglied im Maritimen Cluster Norddeutschland, der die Entwicklung der "
            "Folie in einem Verbundprojekt mit der Universität Kiel und zwei Mitgliedsunternehmen "
            "aus der Lebensmittelwirtschaft begleitet hat.",
        ),
        subtitle="Ein Erfolg aus dem Maritimen Cluster Norddeutschland",
        caption="Algenfolie aus der neuen Produktion",
        credit="© Algaro Packaging GmbH",
        org="Maritimer Cluster Norddeutschland",
        tag="Bioökonomie, Netzwerke",
    ),
    # s11 — teaser copy of an openPR release
    Page(
        "s11",
        "openpr",
        f"{OPR}/1196318/Food-Cluster-Weser-Ems-startet-Innovationswettbewerb-fuer-alternative-"
        "Proteine.html",
        "2023-10-17T14:20",
        "Food-Cluster Weser-Ems startet Innovationswettbewerb für alternative Proteine",
        (
            "(openPR) - Vechta, 17. Oktober 2023 - Der Food-Cluster Weser-Ems sucht neue Ideen "
            "für Lebensmittel aus pflanzlichen Proteinen, Insekten und Fermentation. Im "
            "Innovationswettbewerb „ProteinWende“ können Unternehmen, Start-ups und "
            "Forschungsteams aus Nordwestdeutschland bis zum 31. Januar 2024 Projektideen "
            "einreichen. Gesucht werden Produkte, die sich schnell in den Sortimenten regionaler "
            "Hersteller umsetzen lassen, ebenso wie neue Verfahren zur Verarbeitung heimischer "
            "Hülsenfrüchte wie Ackerbohnen und Lupinen.",
            "Die fünf besten Ideen erhalten jeweils 20.000 Euro Startkapital sowie ein "
            "halbjähriges Coaching durch Fachleute aus den Mitgliedsunternehmen des Clusters. "
            "Zusätzlich können die Teams die Versuchsküche und das Sensoriklabor der Hochschule "
            "Osnabrück nutzen.",
            "Die Region Weser-Ems ist das Zentrum der deutschen Fleisch- und Geflügelwirtschaft. "
            "„Viele unserer Mitglieder wollen ihr Sortiment um pflanzliche Produkte erweitern. "
            "Der Wettbewerb bringt sie mit jungen Teams zusammen, die genau daran arbeiten“, sagt "
            "Clustermanager Henning Meyer.",
        ),
        caption="Verkostung pflanzlicher Proteinprodukte",
        credit="Bildquelle: © Food-Cluster Weser-Ems",
        org="Food-Cluster Weser-Ems e.V.",
        contact=(
            "Food-Cluster Weser-Ems e.V.",
            "Henning Meyer",
            "Driverstraße 22",
            "49377 Vechta",
            "Tel.: +49 4441 915-300",
            "E-Mail: info@foodcluster-weser-ems.de",
        ),
        about="Der Food-Cluster Weser-Ems ist das Netzwerk der Ernährungswirtschaft im Nordwesten "
        "Niedersachsens mit rund 120 Mitgliedern.",
    ),
    Page(
        "s11",
        "clusterplattform",
        f"{CP}/2023/4_quartal/20231019_food_cluster_weser_ems_proteinwende.html",
        "2023-10-19T09:00",
        "Innovationswettbewerb „ProteinWende“ im Food-Cluster Weser-Ems",
        (
            "Der Food-Cluster Weser-Ems sucht neue Ideen für Lebensmittel aus pflanzlichen "
            "Proteinen, Insekten und Fermentation. Im Innovationswettbewerb „ProteinWende“ können "
            "Unternehmen, Start-ups und Forschungsteams aus Nordwestdeutschland bis zum "
            "31. Januar 2024 Projektideen einreichen. Gesucht werden Produkte, die sich schnell in "
            "den Sortimenten regionaler Hersteller umsetzen lassen, ebenso wie neue Verfahren zur "
            "Verarbeitung heimischer Hülsenfrüchte wie Ackerbohnen und Lupinen.",
            f'<p>Mehr: <a href="{OPR}/1196318/Food-Cluster-Weser-Ems-startet-Innovationswettbewerb-'
            'fuer-alternative-Proteine.html" class="RichTextExtLink External">Food-Cluster '
            "Weser-Ems startet Innovationswettbewerb für alternative Proteine</a></p>",
        ),
        subtitle="Einreichungen bis 31. Januar 2024",
        org="Food-Cluster Weser-Ems",
        tag="Ernährungswirtschaft",
    ),
    # s12 — full copies of a GOLD-label release
    Page(
        "s12",
        "openpr",
        f"{OPR}/1295307/Kompetenzcluster-Photonik-Jena-erhaelt-GOLD-Label-fuer-exzellentes-"
        "Clustermanagement.html",
        "2025-09-09T11:10",
        "Kompetenzcluster Photonik Jena erhält GOLD-Label für exzellentes Clustermanagement",
        ("(openPR) - Jena, 9. September 2025 - " + S12_BODY[0], *S12_BODY[1:]),
        caption="Übergabe des GOLD-Labels in Jena",
        credit="Bildquelle: © Kompetenzcluster Photonik Jena",
        org="Kompetenzcluster Photonik Jena e.V.",
        contact=(
            "Kompetenzcluster Photonik Jena e.V.",
            "Tobias Ehrlich",
            "Carl-Zeiss-Promenade 10",
            "07745 Jena",
            "E-Mail: kontakt@photonik-jena.de",
        ),
        about="Der Kompetenzcluster Photonik Jena vernetzt Unternehmen und Forschung der optischen "
        "Technologien in Thüringen.",
    ),
    Page(
        "s12",
        "clusterplattform",
        f"{CP}/2025/3_quartal/20250910_photonik_jena_gold_label.html",
        "2025-09-10T10:00",
        "Kompetenzcluster Photonik Jena erhält GOLD-Label für exzellentes Clustermanagement",
        S12_BODY,
        subtitle="Auszeichnung der European Cluster Excellence Initiative",
        caption="Logo des GOLD-Labels der European Cluster Excellence Initiative",
        credit="© ESCA",
        org="Kompetenzcluster Photonik Jena",
        tag="Exzellenz, Netzwerke",
    ),
    # s13 — same programme as s02, two years later, similar wording (singleton)
    Page(
        "s13",
        "bmwe",
        f"{BMWE}/2024/04/20240410-foerderaufruf-2024-internationale-clusterkooperationen.html",
        "2024-04-10T11:00",
        "Förderaufruf 2024: Bund unterstützt erneut internationale Clusterkooperationen",
        (
            "Das Bundesministerium für Wirtschaft und Klimaschutz (BMWK) hat heute die zweite "
            "Runde des Förderaufrufs für internationale Clusterkooperationen gestartet. "
            "Innovationscluster aus Deutschland können erneut gemeinsam mit Partnerclustern aus "
            "dem "
            "Ausland Projekte beantragen, die kleinen und mittleren Unternehmen den Zugang zu "
            "neuen "
            "Märkten erleichtern.",
            "Neu ist ein Schwerpunkt auf Partnerschaften mit Clustern in der Ukraine, in Afrika "
            "und in Südostasien. Aus der ersten Runde im Jahr 2022 sind 27 Kooperationsprojekte "
            "hervorgegangen, an denen mehr als 400 Unternehmen beteiligt waren.",
            "Je Vorhaben stehen bis zu 350.000 Euro für eine Laufzeit von höchstens drei Jahren "
            "zur "
            "Verfügung. Anträge können bis zum 28. Juni 2024 eingereicht werden; eine "
            "Informationsveranstaltung findet am 7. Mai 2024 online statt.",
        ),
        teaser="Zweite Runde mit neuem Schwerpunkt auf Partnerschaften mit der Ukraine, Afrika und "
        "Südostasien.",
        caption="Matchmaking von Clustermanagements beim Auftakt der ersten Förderrunde",
        credit="© BMWK/Andreas Mertens",
        tag="Außenwirtschaft",
    ),
    # s14 — another cluster's GOLD label, two days after s12 (singleton)
    Page(
        "s14",
        "openpr",
        f"{OPR}/1295788/Cluster-Maschinenbau-Ostwestfalen-erhaelt-GOLD-Label-der-European-"
        "Cluster-Excellence-Initiative.html",
        "2025-09-11T09:40",
        "Cluster Maschinenbau Ostwestfalen erhält GOLD-Label der European Cluster Excellence "
        "Initiative",
        (
            "(openPR) - Bielefeld, 11. September 2025 - Der Cluster Maschinenbau Ostwestfalen ist "
            "als erste Clusterorganisation der Region mit dem GOLD-Label der European Cluster "
            "Excellence Initiative ausgezeichnet worden.",
            "Die Gutachter würdigten vor allem die Angebote für kleine Maschinenbauer: Seit 2021 "
            "hat das Clustermanagement mehr als 60 Digitalisierungsprojekte angestoßen und einen "
            "gemeinsamen Einkauf von Industriesoftware für seine Mitglieder organisiert.",
            "„Für unsere 70 Mitgliedsunternehmen ist das Label ein Ausweis, den sie bei "
            "internationalen Partnern vorzeigen können“, sagt Clustermanagerin Julia Brandt. Im "
            "nächsten Jahr will der Cluster ein gemeinsames Schulungszentrum für Fachkräfte in "
            "der Automatisierungstechnik eröffnen.",
        ),
        caption="Das Team des Clustermanagements mit der Urkunde",
        credit="Bildquelle: © Cluster Maschinenbau Ostwestfalen",
        org="Cluster Maschinenbau Ostwestfalen e.V.",
        contact=(
            "Cluster Maschinenbau Ostwestfalen e.V.",
            "Julia Brandt",
            "Jahnplatz 5",
            "33602 Bielefeld",
            "E-Mail: info@maschinenbau-owl-cluster.de",
        ),
    ),
    # s15, s16 — two different CLIB posts on the same day
    Page(
        "s15",
        "clib",
        f"{CLIB}/de/clib-begruesst-drei-neue-mitglieder-aus-dem-rheinischen-revier/",
        "2024-11-05T10:00",
        "CLIB begrüßt drei neue Mitglieder aus dem Rheinischen Revier",
        (
            "Das CLIB-Netzwerk wächst weiter: Mit der BioRevier Solutions GmbH aus Jülich, der "
            "Hochschule Niederrhein und dem Start-up Fermentis aus Düren sind im Oktober drei "
            "Organisationen aus dem Rheinischen Revier neu in den Cluster eingetreten. CLIB zählt "
            "damit 118 Mitglieder.",
            "Die neuen Mitglieder arbeiten an biobasierten Schmierstoffen, an der Aufbereitung von "
            "Reststoffen aus der Zuckerindustrie und an Präzisionsfermentation für "
            "Lebensmittelzutaten. Sie wollen das Netzwerk vor allem nutzen, um Partner für "
            "Verbundprojekte und Pilotanlagen zu finden.",
            "Wir heißen alle drei herzlich willkommen und freuen uns auf die Zusammenarbeit.",
        ),
        caption="Vertreterinnen und Vertreter der neuen Mitglieder",
        credit="© CLIB",
        tag="Netzwerk",
    ),
    Page(
        "s16",
        "clib",
        f"{CLIB}/de/fachgruppe-fermentation-tagt-in-wuppertal/",
        "2024-11-05T15:30",
        "Fachgruppe Fermentation tagt in Wuppertal",
        (
            "Rund 40 Mitglieder der CLIB-Fachgruppe Fermentation haben sich Anfang November in "
            "Wuppertal getroffen. Gastgeber war ein Mitgliedsunternehmen, das dort eine neue "
            "Anlage zur Herstellung von Enzymen für Waschmittel betreibt.",
            "Im Mittelpunkt standen die Aufreinigung von Fermentationsprodukten und der "
            "Energiebedarf großer Bioreaktoren. In zwei Workshops erarbeiteten die Teilnehmenden "
            "Themen für gemeinsame Projektanträge im kommenden Jahr.",
            "Das nächste Treffen der Fachgruppe findet im Frühjahr 2025 im Rheinischen Revier "
            "statt.",
        ),
        caption="Besichtigung der Enzymanlage",
        credit="© CLIB",
        tag="Veranstaltungen",
    ),
    # s17, s18 — two releases of one cluster that end in the same 80-word profile
    Page(
        "s17",
        "openpr",
        f"{OPR}/1232904/Cluster-Sensorik-Ostbayern-eroeffnet-Prueflabor-fuer-Industriesensoren-"
        "in-Regensburg.html",
        "2024-07-09T10:00",
        "Cluster Sensorik Ostbayern eröffnet Prüflabor für Industriesensoren in Regensburg",
        (
            "(openPR) - Regensburg, 9. Juli 2024 - Der Cluster Sensorik Ostbayern hat in "
            "Regensburg "
            "ein gemeinsames Prüflabor für Industriesensoren eröffnet. Mitgliedsunternehmen können "
            "dort die elektromagnetische Verträglichkeit, die Temperaturbeständigkeit und die "
            "Dichtigkeit ihrer Sensoren prüfen lassen, bevor sie diese zur Zertifizierung geben.",
            "Bisher mussten viele kleine Hersteller ihre Prototypen für solche Tests an externe "
            "Prüfinstitute schicken und oft mehrere Wochen auf einen Termin warten. Das neue Labor "
            "verspricht Termine innerhalb weniger Tage.",
            S17_ABOUT,
        ),
        caption="Klimakammer im neuen Prüflabor",
        credit="Bildquelle: © Cluster Sensorik Ostbayern",
        org="Cluster Sensorik Ostbayern",
        contact=(
            "Cluster Sensorik Ostbayern",
            "Markus Huber",
            "Franz-Mayer-Straße 1",
            "93053 Regensburg",
            "E-Mail: presse@sensorik-ostbayern.de",
        ),
    ),
    Page(
        "s18",
        "openpr",
        f"{OPR}/1247466/Cluster-Sensorik-Ostbayern-startet-Weiterbildungsreihe-zu-KI-in-der-"
        "Messtechnik.html",
        "2024-10-15T09:30",
        "Cluster Sensorik Ostbayern startet Weiterbildungsreihe zu KI in der Messtechnik",
        (
            "(openPR) - Regensburg, 15. Oktober 2024 - Mit einer sechsteiligen Weiterbildungsreihe "
            "will der Cluster Sensorik Ostbayern Ingenieurinnen und Techniker aus "
            "Mitgliedsunternehmen fit für den Einsatz künstlicher Intelligenz in der Messtechnik "
            "machen. Die Reihe beginnt am 7. November an der Ostbayerischen Technischen Hochschule "
            "Regensburg.",
            "Behandelt werden unter anderem die Auswertung von Sensordaten mit maschinellem "
            "Lernen, die vorausschauende Wartung und die Frage, wie sich KI-Modelle auf kleinen "
            "Mikrocontrollern betreiben lassen. Die Teilnahme kostet für Mitglieder 450 Euro.",
            S17_ABOUT,
        ),
        caption="Schulungsraum an der OTH Regensburg",
        credit="Bildquelle: © Cluster Sensorik Ostbayern",
        org="Cluster Sensorik Ostbayern",
        contact=(
            "Cluster Sensorik Ostbayern",
            "Markus Huber",
            "Franz-Mayer-Straße 1",
            "93053 Regensburg",
            "E-Mail: presse@sensorik-ostbayern.de",
        ),
    ),
    # s19 — the review of the conference s07 called for posters for
    Page(
        "s19",
        "clib",
        f"{CLIB}/de/rueckblick-clib-international-conference-2025/",
        "2025-02-11T11:00",
        "Rückblick: CLIB International Conference 2025",
        (
            "Mehr als 250 Gäste aus 19 Ländern haben am 4. und 5. Februar an der CLIB "
            "International "
            "Conference in Düsseldorf teilgenommen. Unter dem Motto „Biomanufacturing at Scale“ "
            "ging es zwei Tage lang darum, wie biotechnologische Verfahren schneller in die "
            "industrielle Produktion kommen.",
            "In den Podiumsrunden wurde deutlich, dass vor allem Pilot- und Demonstrationsanlagen "
            "fehlen. Mehrere Unternehmen kündigten an, ihre Anlagen stärker für Partner aus dem "
            "Netzwerk zu öffnen.",
            "Den CLIB Poster Award erhielten drei Nachwuchsteams aus Aachen, Delft und Bielefeld. "
            "Ihre Arbeiten zu enzymatischem Kunststoffrecycling und zu neuen Produktionsstämmen "
            "überzeugten die Jury. Wir danken allen Gästen, Referierenden und Sponsoren!",
        ),
        caption="Podiumsdiskussion am ersten Konferenztag",
        credit="© CLIB/Ralf Baumgarten",
        tag="Veranstaltungen",
    ),
    # s20, s21 — Clusterwoche: call for events vs. the ministry's review
    Page(
        "s20",
        "clusterplattform",
        f"{CP}/2025/1_quartal/20250115_clusterwoche_2025_jetzt_veranstaltungen_anmelden.html",
        "2025-01-15T10:00",
        "Clusterwoche Deutschland 2025: Jetzt Veranstaltungen anmelden",
        (
            "Vom 7. bis 11. April 2025 findet die dritte Clusterwoche Deutschland statt. "
            "Clusterinitiativen aus allen Ländern sind eingeladen, sich mit eigenen "
            "Veranstaltungen "
            "zu beteiligen – vom Tag der offenen Tür über Werkstattgespräche bis zur "
            "Fachkonferenz.",
            "Die Anmeldung ist bis zum 28. Februar 2025 über das Formular auf der Clusterplattform "
            "möglich. Alle Termine werden in einem gemeinsamen Kalender veröffentlicht und in den "
            "sozialen Medien unter dem Hashtag #Clusterwoche begleitet.",
            "Schwerpunkte sind in diesem Jahr die Fachkräftesicherung und die Zusammenarbeit von "
            "Start-ups mit etablierten Clustermitgliedern.",
        ),
        subtitle="Anmeldeschluss 28. Februar 2025",
        caption="Logo der Clusterwoche Deutschland",
        credit="© VDI/VDE-IT",
        org="Clusterplattform Deutschland Redaktion",
        tag="Clusterwoche, Veranstaltungen",
    ),
    Page(
        "s21",
        "bmwe",
        f"{BMWE}/2025/05/20250516-bilanz-clusterwoche-deutschland-2025.html",
        "2025-05-16T10:00",
        "Bilanz der Clusterwoche 2025: 190 Veranstaltungen in allen Ländern",
        (
            "Mit 190 Veranstaltungen und mehr als 12.000 Teilnehmenden ist die dritte Clusterwoche "
            "Deutschland zu Ende gegangen. Das Bundesministerium für Wirtschaft und Energie (BMWE) "
            "zieht eine positive Bilanz: Die Aktionswoche habe gezeigt, wie vielfältig die "
            "Clusterlandschaft in Deutschland ist.",
            "Besonders gefragt waren Formate, in denen Start-ups und etablierte Unternehmen "
            "zusammenkamen. Allein bei den Matchmaking-Veranstaltungen wurden mehr als 900 "
            "Gespräche vereinbart. Auch die Angebote zur Fachkräftesicherung, etwa Karrieretage "
            "in Clustern der Metall- und Elektroindustrie, stießen auf großes Interesse.",
            "Die nächste Clusterwoche Deutschland ist für das Frühjahr 2026 geplant.",
        ),
        teaser="Mehr als 12.000 Teilnehmende bei der dritten Clusterwoche Deutschland.",
        caption="Matchmaking während der Clusterwoche in Leipzig",
        credit="© BMWE/Jesco Denzel",
        tag="Mittelstand",
    ),
    # s22, s23 — one announcement in German and English, NOT linked by hreflang
    Page(
        "s22",
        "clib",
        f"{CLIB}/de/clib-veroeffentlicht-positionspapier-zur-biooekonomiestrategie/",
        "2025-04-08T09:00",
        "CLIB veröffentlicht Positionspapier zur Bioökonomiestrategie",
        S22_DE,
        caption="Workshop zum Positionspapier",
        credit="© CLIB",
        tag="Cluster-Politik",
    ),
    Page(
        "s23",
        "clib",
        f"{CLIB}/en/clib-publishes-position-paper-on-the-bioeconomy-strategy/",
        "2025-04-09T14:00",
        "CLIB publishes position paper on the bioeconomy strategy",
        S23_EN,
        caption="Workshop on the position paper",
        credit="© CLIB",
        tag="Cluster Policy",
    ),
    # s24 — a digest Meldung quoting the leads of s10, s05 and s12 with "Mehr:" links
    Page(
        "s24",
        "clusterplattform",
        f"{CP}/2025/3_quartal/20250930_neues_aus_den_clustern_erfolgsgeschichten.html",
        "2025-09-30T10:00",
        "Neues aus den Clustern: Drei Erfolgsgeschichten aus dem Jahr 2025",
        (
            "Algenfolie, Gesundheits-Apps und Photonik: Die Clusterplattform fasst drei Meldungen "
            "aus den vergangenen Monaten zusammen, die zeigen, was Innovationscluster für ihre "
            "Mitglieder bewegen.",
            "## Verpackungsfolie aus Mikroalgen",
            "Die Algaro Packaging GmbH startet die Serienfertigung einer kompostierbaren "
            "Verpackungsfolie aus Mikroalgen.",
            f'<p>Mehr: <a href="{CP}/2025/1_quartal/20250313_maritimer_cluster_algenfolie_'
            'serienfertigung.html" class="RichTextIntLink Basepage">Verpackungsfolie aus '
            "Mikroalgen: Kieler Start-up geht in Serienfertigung</a></p>",
            "## Testzentrum für digitale Gesundheitsanwendungen",
            "Wie lassen sich digitale Gesundheitsanwendungen vor der Zulassung unter realen "
            "Bedingungen erproben? Eine Antwort gibt künftig ein Testzentrum in Mannheim.",
            f'<p>Mehr: <a href="{CP}/2025/2_quartal/20250508_medtech_cluster_rhein_neckar_'
            'testzentrum_diga.html" class="RichTextIntLink Basepage">Testzentrum für digitale '
            "Gesundheitsanwendungen: MedTech-Cluster Rhein-Neckar wird aktiv</a></p>",
            "## GOLD-Label für Jena",
            "Der Kompetenzcluster Photonik Jena ist mit dem GOLD-Label der European Cluster "
            "Excellence Initiative ausgezeichnet worden.",
            f'<p>Mehr: <a href="{CP}/2025/3_quartal/20250910_photonik_jena_gold_label.html" '
            'class="RichTextIntLink Basepage">Kompetenzcluster Photonik Jena erhält GOLD-Label für '
            "exzellentes Clustermanagement</a></p>",
        ),
        subtitle="Ein Rückblick der Redaktion",
        org="Clusterplattform Deutschland Redaktion",
        tag="Netzwerke",
    ),
    # s25 — an unrelated openPR release (relevance: false)
    Page(
        "s25",
        "openpr",
        f"{OPR}/1238712/Sprachschule-LinguaNord-erweitert-Angebot-um-Online-Intensivkurse.html",
        "2024-08-20T13:05",
        "Sprachschule LinguaNord erweitert Angebot um Online-Intensivkurse",
        (
            "(openPR) - Lübeck, 20. August 2024 - Die Sprachschule LinguaNord bietet ab September "
            "Online-Intensivkurse in Englisch, Spanisch und Schwedisch an. Die Kurse umfassen "
            "jeweils 40 Unterrichtsstunden in vier Wochen und finden abends in kleinen Gruppen "
            "mit höchstens acht Teilnehmenden statt.",
            "Damit reagiert die Schule auf die Nachfrage von Berufstätigen, die sich neben der "
            "Arbeit auf einen Auslandseinsatz vorbereiten wollen. Alle Kurse schließen mit einem "
            "Zertifikat nach dem Gemeinsamen Europäischen Referenzrahmen ab und sind in "
            "Schleswig-Holstein als Bildungsurlaub anerkannt.",
        ),
        caption="Unterricht im Online-Klassenzimmer",
        credit="Bildquelle: © LinguaNord",
        org="LinguaNord Sprachschule GmbH",
        contact=(
            "LinguaNord Sprachschule GmbH",
            "Beckergrube 12",
            "23552 Lübeck",
            "E-Mail: info@linguanord.de",
        ),
    ),
    # s26 — results of the project whose start s08 announced
    Page(
        "s26",
        "clib",
        f"{CLIB}/de/bioloop-erste-klebstoffe-aus-reststoffen-im-praxistest/",
        "2025-06-24T10:00",
        "BIOLOOP: Erste Klebstoffe aus Reststoffen im Praxistest",
        (
            "Im EU-Projekt BIOLOOP, das CLIB koordiniert, gehen die ersten biobasierten Klebstoffe "
            "in den Praxistest. Ein Etikettenhersteller aus den Niederlanden und ein "
            "Möbelzulieferer aus Ostwestfalen erproben Bindemittel auf Basis von Lignin und "
            "Rapsprotein in ihrer laufenden Produktion.",
            "Die Laborergebnisse sind vielversprechend: Die Klebkraft erreicht bei den Etiketten "
            "bereits 90 Prozent der erdölbasierten Vergleichsprodukte. Offene Fragen betreffen vor "
            "allem die Lagerstabilität und die Kosten.",
            "Zur Halbzeit des Projekts treffen sich die zwölf Partner im September in Gent, um die "
            "Ergebnisse der Praxistests auszuwerten.",
        ),
        caption="Probeetiketten mit Ligninkleber",
        credit="© CLIB",
        tag="Europa",
    ),
    # s27, s28 — two different releases of one cluster on the same day
    Page(
        "s27",
        "openpr",
        f"{OPR}/1259130/Mobilitaetscluster-Region-Stuttgart-waehlt-neuen-Vorstand.html",
        "2025-01-28T09:00",
        "Mobilitätscluster Region Stuttgart wählt neuen Vorstand",
        (
            "(openPR) - Stuttgart, 28. Januar 2025 - Die Mitgliederversammlung des "
            "Mobilitätsclusters Region Stuttgart hat einen neuen Vorstand gewählt. Neue "
            "Vorsitzende ist Dr. Carola Weiß, Technikvorständin eines Zulieferers für "
            "Leistungselektronik aus Esslingen. Sie folgt auf Peter Aufderheide, der das Amt "
            "sechs Jahre innehatte.",
            "Dem neuen Vorstand gehören sieben Vertreterinnen und Vertreter aus Unternehmen, "
            "Hochschulen und der Wirtschaftsförderung an. Als Schwerpunkte für die kommenden drei "
            "Jahre nannte Weiß die Transformation der Zulieferindustrie und die Gewinnung von "
            "Fachkräften für Software und Elektronik.",
        ),
        caption="Der neu gewählte Vorstand",
        credit="Bildquelle: © Mobilitätscluster Region Stuttgart",
        org="Mobilitätscluster Region Stuttgart e.V.",
        contact=(
            "Mobilitätscluster Region Stuttgart e.V.",
            "Friedrichstraße 10",
            "70174 Stuttgart",
            "E-Mail: presse@mobilitaetscluster-stuttgart.de",
        ),
    ),
    Page(
        "s28",
        "openpr",
        f"{OPR}/1259157/Mobilitaetscluster-Region-Stuttgart-startet-Wettbewerb-fuer-Software-"
        "Start-ups.html",
        "2025-01-28T11:30",
        "Mobilitätscluster Region Stuttgart startet Wettbewerb für Software-Start-ups",
        (
            "(openPR) - Stuttgart, 28. Januar 2025 - Der Mobilitätscluster Region Stuttgart sucht "
            "Start-ups, die Software für das Fahrzeug der Zukunft entwickeln. Im Wettbewerb "
            "„Code the Car“ können sich junge Unternehmen bis zum 31. März 2025 mit Lösungen für "
            "Over-the-Air-Updates, Fahrerassistenz und Batteriemanagement bewerben.",
            "Die zehn besten Teams erhalten die Möglichkeit, ihre Software drei Monate lang "
            "gemeinsam mit Mitgliedsunternehmen des Clusters an Testfahrzeugen zu erproben. Der "
            "Sieger erhält zusätzlich ein Preisgeld von 25.000 Euro.",
        ),
        caption="Testfahrzeug auf dem Prüfgelände",
        credit="Bildquelle: © Mobilitätscluster Region Stuttgart",
        org="Mobilitätscluster Region Stuttgart e.V.",
        contact=(
            "Mobilitätscluster Region Stuttgart e.V.",
            "Friedrichstraße 10",
            "70174 Stuttgart",
            "E-Mail: presse@mobilitaetscluster-stuttgart.de",
        ),
    ),
    # s29, s30 — a monthly ministry series with near-identical wording (relevance: false)
    Page(
        "s29",
        "bmwe",
        f"{BMWE}/2024/05/20240514-die-wirtschaftliche-lage-in-deutschland-im-mai-2024.html",
        "2024-05-14T08:00",
        "Die wirtschaftliche Lage in Deutschland im Mai 2024",
        (
            "Die deutsche Wirtschaft hat im ersten Quartal leicht zugelegt. Das "
            "Bruttoinlandsprodukt "
            "stieg nach der Schnellmeldung des Statistischen Bundesamtes um 0,2 Prozent gegenüber "
            "dem Vorquartal. Getragen wurde das Wachstum vor allem von der Bauwirtschaft und den "
            "Exporten.",
            "Die Industrieproduktion bleibt dagegen schwach; die Auftragseingänge gingen im März "
            "erneut zurück. Die Stimmungsindikatoren haben sich zuletzt aber aufgehellt.",
            "Der Arbeitsmarkt zeigt sich insgesamt robust. Die Inflationsrate lag im April bei "
            "2,2 Prozent und damit deutlich unter dem Vorjahreswert.",
        ),
        teaser="Die Wirtschaft ist leicht ins Plus gedreht; die Industrie bleibt schwach.",
        caption="Containerterminal im Hamburger Hafen",
        credit="© BMWK/Susanne Eriksson",
        tag="Konjunktur",
    ),
    Page(
        "s30",
        "bmwe",
        f"{BMWE}/2024/06/20240613-die-wirtschaftliche-lage-in-deutschland-im-juni-2024.html",
        "2024-06-13T08:00",
        "Die wirtschaftliche Lage in Deutschland im Juni 2024",
        (
            "Die deutsche Wirtschaft setzt ihre langsame Erholung fort. Nach dem leichten Anstieg "
            "des Bruttoinlandsprodukts im ersten Quartal deuten die Frühindikatoren auf ein "
            "moderates Wachstum auch im zweiten Quartal hin. Getragen wird es vor allem vom "
            "privaten Konsum.",
            "Die Industrieproduktion bleibt schwach; die Auftragseingänge stabilisierten sich im "
            "April auf niedrigem Niveau. Die Exporte gingen leicht zurück.",
            "Der Arbeitsmarkt zeigt sich weiterhin robust. Die Inflationsrate lag im Mai bei "
            "2,4 Prozent.",
        ),
        teaser="Die Erholung setzt sich langsam fort; die Industrie bleibt schwach.",
        caption="Produktionshalle eines Maschinenbauunternehmens",
        credit="© BMWK/Susanne Eriksson",
        tag="Konjunktur",
    ),
)

# story id → (kind, relevant, what it tests)
STORIES: dict[str, tuple[str, bool, str]] = {
    "s01": ("full copies", True, "ministry release and its full clusterplattform copy"),
    "s02": ("teaser copy", True, "clusterplattform repeats only the lead + 'Mehr:' link"),
    "s03": (
        "openpr prefix + contact",
        True,
        "openPR body with '(openPR) - Ort, Datum - ' and a Pressekontakt line inside the body",
    ),
    "s04": (
        "openpr prefix + contact; de/en hreflang",
        True,
        "CLIB post (DE/EN linked by hreflang) and its openPR copy with prefix and contact box",
    ),
    "s05": (
        "extra credit line",
        True,
        "clusterplattform copy with a reworded lead and an added credit line at the end",
    ),
    "s06": (
        "ministry name edited",
        True,
        "ministry page says BMWK (edited later), the 2021 clusterplattform copy says BMWi",
    ),
    "s07": ("de/en hreflang", True, "clib DE/EN versions linked by hreflang"),
    "s08": (
        "de/en hreflang; full copies",
        True,
        "clib DE/EN (hreflang) plus a clusterplattform copy of the German text",
    ),
    "s09": (
        "relevant copy of irrelevant-looking original",
        True,
        "ministry original has no cluster keyword; the clusterplattform copy adds a cluster lead",
    ),
    "s10": (
        "relevant copy of irrelevant-looking original",
        True,
        "openPR original has no cluster keyword; the clusterplattform copy adds a cluster "
        "paragraph",
    ),
    "s11": ("teaser copy", True, "clusterplattform teaser linking the openPR original"),
    "s12": ("full copies", True, "openPR release (prefix) and clusterplattform full copy"),
    "s13": ("singleton", True, "same programme as s02, two years later"),
    "s14": ("singleton", True, "another cluster's GOLD label, two days after s12"),
    "s15": ("singleton", True, "CLIB post, same day as s16"),
    "s16": ("singleton", True, "CLIB post, same day as s15"),
    "s17": ("singleton", True, "ends in the same 80-word cluster profile as s18"),
    "s18": ("singleton", True, "ends in the same 80-word cluster profile as s17"),
    "s19": ("singleton", True, "review of the conference whose call for posters is s07"),
    "s20": ("singleton", True, "Clusterwoche 2025: call to register events"),
    "s21": ("singleton", True, "Clusterwoche 2025: the ministry's review"),
    "s22": ("singleton", True, "German post; its English version s23 is not linked"),
    "s23": ("singleton", True, "English post; its German version s22 is not linked"),
    "s24": ("singleton", True, "digest quoting the leads of s10, s05, s12 with 'Mehr:' links"),
    "s25": ("singleton", False, "unrelated openPR release"),
    "s26": ("singleton", True, "results of the project whose start is s08"),
    "s27": ("singleton", True, "cluster release, same day and issuer as s28"),
    "s28": ("singleton", True, "cluster release, same day and issuer as s27"),
    "s29": ("singleton", False, "monthly economic report (May)"),
    "s30": ("singleton", False, "monthly economic report (June), near-identical wording"),
}

NEGATIVES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("s02", "s13"), "two ministry calls of the same programme (2022, 2024) with similar wording"),
    (("s12", "s14"), "GOLD labels of two different clusters in the same week, same phrasing"),
    (("s15", "s16"), "same-day posts of one cluster (CLIB) about different things"),
    (("s17", "s18"), "two releases of one cluster sharing the same 80-word 'Über den Cluster' end"),
    (("s07", "s19"), "call for posters (DE/EN) vs. the later review of the same conference"),
    (("s20", "s21"), "Clusterwoche 2025 announced (call to register) vs. reported (review)"),
    (("s22", "s23"), "DE and EN versions NOT linked by hreflang: never merge languages by guess"),
    (("s24", "s05", "s10", "s12"), "digest quoting the leads of three stories vs. those stories"),
    (("s08", "s26"), "project start vs. project results, same project name and partners"),
    (("s27", "s28"), "same issuer, same day, same dateline prefix, different announcements"),
    (("s29", "s30"), "monthly series: same headline template and near-identical wording"),
)
