#!/usr/bin/env python3
# Not part of the build: how widget/src/app/returncode/words.nl.txt was made (run once, by hand).
# Run with `wordfreq` (PyPI) installed and Debian's `wdutch`: python3 scripts/wordlist.py > src/app/returncode/words.nl.txt
"""Make the return code's word list: common Dutch words, a-z, 4-8 letters, in the Dutch
dictionary (lower case: no names), nothing alarming or offensive. Needs `wordfreq` (PyPI) and
Debian's `wdutch`."""
import re, sys
from wordfreq import top_n_list

SIZE = 4096
dictionary = {w.strip() for w in open("/usr/share/dict/dutch", encoding="utf-8")}
# Whole themes a found code must not hint at, and words nobody should have to write down.
BLOCK_PARTS = """dood dode doden moord drug wiet coke cocaine heroine xtc pillen sex seks neuk kut lul pik hoer slet
kanker tering tyfus mongo homo nazi hitler jood joden wapen pistool geweer politie agent gevang straf crimin dief
diev stelen steel gestol roof rover overval geweld slaan sloeg schiet schoot bom terror verkracht misbruik uitbuit
ziek aids bloed lijk graf begra sterf stierf pijn angst bang huil schuld hulp help gevaar dreig bedreig vecht vocht
oorlog leger soldaat kogel moorden kill sterven gestorven zelfmoord dronk alcohol bier wijn sigaret roken rook
gokken casino porno naakt borst bil kont piemel vagina penis lichaam zwanger abort sperma orgasme
god jezus allah islam moslim christ kerk bijbel koran satan duivel hel heks
racis neger zwart blank allochto buitenland vluchtel asiel illegaal
politiek partij minister premier koning koningin vorst regering rechter advocaat rechtbank justitie
aangifte betrapt boete corrupt genocide trauma pest commando bende gestoken overle stierv verboden schat
handel inval kooi gooi gegooid kapot verpest zonde lippen organ slag vuurwerk brand explo ontplof ramp crash
ongeluk gewond wond slachtoffer dader verdacht arrest boef bajes cellen tralie misdaad fraude oplicht smokkel
dealer junk stoned high blow speed pil spuit naald injec vergif gif wraak afpers chantage ontvoer gijzel
slaaf slavern prostitu escort pooier loverboy ronsel groom stalk kidnap verdwijn vermist
sterft overlijd begrafenis rouw crematie zwaard bijl knuppel boksen vuist schop trap klap stoot tank raket
anaal kinky naai flirt intiem lieg gelogen verraa wanhop vlucht koerier kanon pastoor religi ritue syndroom infect lijden tragedie afgrond rotzooi puinhoop gozer lieverd meid schaam wreed wrede woest sanctie verstop onrecht orkaan astma diagnose ongezond genez tabak sigaar dronken loterij majoor webcam zweer honger ellend verdriet sneu zielig eenzaam depress stress paniek crisis
dokter ziekenhuis arts huisarts kliniek medicijn therapie psychia psycholo verslaaf
geld bank schuld lening cash euro dollar
jongen meisje kind baby
scheet poep plas pies stront kots braak
haat hate dumb dom idioot stom sukkel debiel achterlijk gek
""".split()
BLOCK_WORDS = set("""mes messen zak zakken gat lekker geil heet dik dikke vet vette lelijk bitch shit fuck
sorry okay oke hoor jij jou jouw mij mijn wij onze ons zij hun hen hem haar zijn wie wat waar waarom hoe
niet geen wel maar want omdat dus toch even heel erg zeer veel weinig alle alles niets iets iemand niemand
deze dit dat die daar hier toen als dan ook nog al eens zelf zelfs weer meer minst meest alleen samen
""".split())
english = set(top_n_list("en", 15000))
STOP_RANK = 150  # the very commonest words are function words: skip them
out = []
for rank, word in enumerate(top_n_list("nl", 60000)):
    if rank < STOP_RANK or not re.fullmatch(r"[a-z]{4,8}", word) or word not in dictionary:
        continue
    if word.capitalize() in dictionary or word in english:
        continue  # a name, or an English word
    if word in BLOCK_WORDS or any(part in word for part in BLOCK_PARTS):
        continue
    out.append(word)
    if len(out) == SIZE:
        break
assert len(out) == SIZE, len(out)
out.sort()
sys.stdout.write("\n".join(out) + "\n")
