#!/usr/bin/env python3
# Not part of the build: how widget/src/app/returncode/words.nl.txt was made (run once, by hand).
# Run with `wordfreq` 3.1.1 (PyPI) installed and Debian's `wdutch`:
#   python3 scripts/wordlist.py > src/app/returncode/words.nl.txt
"""Make the return code's word list: common Dutch words, a-z, 4-8 letters, in the Dutch
dictionary (lower case: no names), nothing alarming or offensive. Needs `wordfreq` (PyPI) and
Debian's `wdutch`.

A code is written on a note that an exploiter may find: no word may hint at what the note is
for. A blocked stem blocks every word that contains it or one of its inflected spellings
(`spellings`): Dutch drops a doubled vowel and voices a final f/s before an ending, so "anaal"
must also block "anale", "geweer" "geweren", "dief" "dieven", "vies" "vieze". The same rule is
checked on the finished list by widget/test/returncode/words.test.ts."""
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
anaal kinky naai flirt intiem lieg gelogen verraa wanhop wanhoop vlucht koerier kanon pastoor religi ritue syndroom infect lijden tragedie afgrond rotzooi puinhoop gozer lieverd meid schaam wreed wrede woest sanctie verstop onrecht orkaan astma diagnose ongezond genez tabak sigaar dronken loterij majoor webcam zweer honger ellend verdriet sneu zielig eenzaam depress stress paniek crisis
dokter ziekenhuis arts huisarts kliniek medicijn therapie psychia psycholo verslaaf
geld bank schuld lening cash euro dollar
jongen meisje kind baby
scheet poep plas pies stront kots braak
haat hate dumb dom idioot stom sukkel debiel achterlijk gek
bdsm bondage condoom erot geil tiet lesbi brunet vrijen zuig zaad slikken poes pijp likken bloot blote
 geslacht gepaard verliefd liefje liefde liefst geliefd vriendje knuffel daten sauna matras selfie tatoe
luier kleden slank mager long ribben schedel buik heup darm tong
flikker klootzak klote eikel gestoord wijven smerig beledig schande taboe dwerg
maffia misdrijf munitie officier opgepakt opsporen ontsnap ontkom pleeg plegen prooi schutter vonnis vervolg
wetboek getuig gerecht parket spion stiekem douane paspoort visum migratie bewaak bewaker bewaking toezicht
bewijs dossier melding gemeld meldde meldt gehackt kraken gedumpt dumpen gestort
slacht snij gesneden vernield rellen opstand rebel terreur vijand strijd troepen peloton kazerne konvooi
militair vizier agressie executie invasie complot woede woedend jaag jagen jager jacht gejaagd gillen
 onveilig nood dringend spoed redding redden redt vandoor weglopen onderdak opvang veilig bevrijd vrijheid
vals zwijg dwang dwing dwong uitgeput tranen treurig triest droevig hopeloos kwaad kwade kwetsen leugen bedrog
weduwe dementie epidemie griep koorts besmet virus vaccin autisme blessure letsel fataal fatale rolstoel
medisch chirurg operatie apotheek dosis poeder drank borrel kater kroeg nuchter wedden
gebed bidden altaar heilig engel demon gezegend genade hemel gedoopt kapel moskee monnik parochie pater
priester ziel zegen heil magie magisch
kabinet coalitie kiezer liberal liberaal links rechts radica fractie petitie raadslid vakbond sovjet politici
politica censuur boycot bewind etnisch inheems indian westers oosters
kelder loods magazijn riool parkeren
pakje pakjes pakket gepakt afgepakt bezorg zakje
betaal betaling salaris rente krediet kapitaal bonus gulden munten netto bruto premie inkomen verdien kassa
factuur failliet inflatie fiscaal fiscale rekening bijstand spaar sparen gespaard armoede dakloze
chatten anoniem geheim foto filmpje gefilmd filmen uploaden
bataljon bacterie beroerte boks brute diarree fascis granaat granaten haram hetero kaliber minnaar mollig onthoofd
piet pruik pyjama sharia slappe tepel verhoor verrader viagra vloek voogd weeshuis zwerver zweet zweten
bekken gebit hoest ingreep prik blokkade doop roeping smeek smeken ongerust zwakte lotto cheque gejat
akelig kusten rukken knal schaar redde jurist nachtje tovenaar ruzie schrik schrok schok bedden slaat sloegen
duw bijt grijp gegrepen hakken breuk brutal gips hagel kartel
stoornis offeren vingeren gezeik verlost envelop roddel wangen gordel isolatie klant marte synagog pakhuis potentie wallen gelekt winst
""".split()
BLOCK_WORDS = set("""mes messen zak zakken gat lekker geil heet dik dikke vet vette lelijk bitch shit fuck
sorry okay oke hoor jij jou jouw mij mijn wij onze ons zij hun hen hem haar zijn wie wat waar waarom hoe
niet geen wel maar want omdat dus toch even heel erg zeer veel weinig alle alles niets iets iemand niemand
deze dit dat die daar hier toen als dan ook nog al eens zelf zelfs weer meer minst meest alleen samen
lijf motie huid nier nieren paus laf laffe apen zoen zoenen preek preken tempel tempels teef wijf vangen vangt
tuig genot
""".split())


def spellings(stem):
    """The stem and the spellings it takes before an ending: "anaal" -> "anale", "dief" -> "dieve"."""
    out = {stem}
    body, last = stem[:-1], stem[-1:]
    voiced = {"f": "v", "s": "z"}.get(last, last)
    # Before an ending that starts with a vowel (-e, -en, -er, -ig, -isch) a doubled vowel is
    # spelled single and a final f or s becomes v or z.
    if re.search(r"([aeou])\1[^aeiou]$", stem):
        out.update(stem[:-3] + stem[-2] + voiced + end for end in "ei")
    elif last in "fs":
        out.update(body + voiced + end for end in "ei")
    return out


BLOCKED = {form for stem in BLOCK_PARTS for form in spellings(stem)}
english = set(top_n_list("en", 15000))
STOP_RANK = 150  # the very commonest words are function words: skip them
out = []
for rank, word in enumerate(top_n_list("nl", 60000)):
    if rank < STOP_RANK or not re.fullmatch(r"[a-z]{4,8}", word) or word not in dictionary:
        continue
    if word.capitalize() in dictionary or word in english:
        continue  # a name, or an English word
    if word in BLOCK_WORDS or any(form in word for form in BLOCKED):
        continue
    out.append(word)
    if len(out) == SIZE:
        break
assert len(out) == SIZE, len(out)
out.sort()
sys.stdout.write("\n".join(out) + "\n")
