"""Demo content: the seed page's article and sidebar lists, plus generated articles.

`load_demo` fills an empty database so that the site reproduces the page it was
modelled on (DESIGN.md, seed-page.txt) and, with `article_count`, has enough
volume to exercise paging, feeds, search and the visibility rules. The seed
page's text is copied into this module: the app never reads /work/shared.

Generated prose comes from a small template grammar seeded with a fixed
`random.Random`, so every run produces the same content.
"""

import datetime as dt
import html
import random
from collections import namedtuple

from models import Article, ArticleIndex, Rubric, Section, SiteSettings, User, database, slugify
from sanitize import clean_html

RANDOM_SEED = 20190721

SITE_SETTINGS = {
    "name": "War and Peace",
    "tagline": "News and analysis of world politics",
    "founded_line": "The site was founded by Natalia Laval in 2006",
    "copyright_line": '2006-2022 Inca Group "War and Peace"',
    "timezone": "Europe/Moscow",
}

# (name, slug), in display order.
SECTIONS = (
    ("Exclusive", "exclusive"),
    ("News", "news"),
    ("Reports", "reports"),
    ("Commentaries", "commentaries"),
    ("Analysis", "analysis"),
)

RUBRICS = (
    "Global Security", "Economy", "Politics", "Energy", "Society", "Technology",
    "Middle East", "Asia-Pacific", "Europe", "Americas",
)  # fmt: skip


def _paragraphs(text):
    """Paragraphs of a wrapped text block: blank lines separate, newlines are spaces."""
    return tuple(" ".join(block.split("\n")) for block in text.strip().split("\n\n"))


# --- The seed article, verbatim (trailing spaces stripped; the "Statesand" typo kept). ---

SEED_TITLE = "Are Russia and the US Finally on the Same Page in Afghanistan?"
SEED_SECTION = "reports"
SEED_RUBRIC = "Global Security"
SEED_AUTHOR = "Samuel Ramani"
# The page shows 21.07.19 08:16 in Moscow time, which has been UTC+3 all year since 2014.
SEED_PUBLISHED_AT = dt.datetime(2019, 7, 21, 5, 16)

(SEED_BIO,) = _paragraphs(
    """
Samuel Ramani is a DPhil candidate in International Relations at St. Antony’s College,
University of Oxford, specializing in post-1991 Russian foreign policy. He is a geopolitical
analyst and commentator who regularly contributes to the Washington Post and The National
Interest. He can be followed on Twitter @samramani2
"""
)

SEED_PARAGRAPHS = _paragraphs(
    """
From July 11 to 12, U.S. Special Representative for Afghanistan Reconciliation Zalmay
Khalilzad met with senior diplomats from Russia, China, and Pakistan in Beijing to discuss
the resolution of the war in Afghanistan. U.S. officials viewed the summit favorably, and
Khalilzad stated that the outcome of the negotiations was “very positive.” After the
conclusion of the talks, all four countries reached an agreement on the need for “a
permanent ceasefire that starts with intra-Afghan negotiations.”

As Russia and the United States have clashed over Afghanistan due to Moscow’s alleged arms
provisions to the Taliban and the Kremlin’s willingness to host peace negotiations that
excluded Afghan President Ashraf Ghani’s government, the productive dialogue between
American and Russian diplomats in Beijing was a significant milestone. In spite of these
talks and recent statements from U.S. Secretary of State Mike Pompeo and Russian President
Vladimir Putin that acknowledge the value of U.S.-Russia dialogue on Afghanistan,
substantive cooperation between the two countries on ending the war remains elusive.

The most contentious issue that separates the American and Russian perspectives is what
constitutes a withdrawal of U.S. forces from Afghanistan. As the United States, Russia, and
China recently discussed a potential American military withdrawal if the Taliban pledged not
to harbor terrorist groups, Moscow hoped that an agreement with the Taliban on this issue
would cause the U.S. to completely depart from Afghanistan. Russia’s perspective has gained
little traction in Washington, however, as U.S. President Donald Trump’s July 2 calls for
the long-term retention of a “very strong intelligence presence” in Afghanistan underscored
the U.S. military’s preference for a limited withdrawal.

This chasm in perspectives ensured that Trump’s July 2 comments were negatively received in
Moscow. Russian state media coverage highlighted the contradiction between Trump’s
Afghanistan policy and his desire to prevent the United States from being the world’s
policeman. Sergei Balsamov, a Moscow-based expert on Middle Eastern and South Asian affairs,
claimed that Trump’s announcement was motivated by pressure from Congress and his
preoccupation with avoiding “mistakes” that could jeopardize his re-election prospects.
Dmitry Mikheyev, a prominent Russian commentator on U.S. foreign policy, stated that Trump’s
announcement revealed that his Afghanistan policy did not differ from that of previous
administrations.

Russia also stridently opposes the increase in American private security personnel in
Afghanistan. In an August 2017 interview with Izvestiya, the Russian president’s special
envoy to Afghanistan, Zamir Kabulov, described U.S. plans to deploy armed security
contractors as “inappropriate” and claimed that the failure of U.S. troops to stabilize
Afghanistan meant that private security deployments would be similarly ineffective. Since
Khalilzad intensified his outreach to Russia in December 2018, Russian officials have kept
silent on the presence of American armed security contractors. However, Russia’s consistent
emphasis on the need for the U.S. to completely withdraw from Afghanistan suggests that
Moscow’s position has likely remained consistent.

If the United States and Russia cannot reach a common understanding on what an American
withdrawal from Afghanistan entails, Moscow could attempt to undermine the performance of
residual U.S. personnel through information warfare and expanded military involvement in
Central Asia. Russia’s re-emergence as a major diplomatic player in Afghanistan, with the
inception of the Moscow-format talks in early 2017, has corresponded with an intensified
disinformation campaign against the U.S. mission. Russian state media outlet Sputnik has a
Dari language website that spreads pro-Kremlin narratives to an Afghan audience. One
frequently referenced conspiracy theory in the Russian state media is the contention that
the U.S. wants to maintain a foothold in Afghanistan to secure access to Central Asia’s
mineral resources and Iran’s oil and gas reserves. Russian media outlets also contend that
the United States has deployed armed security contractors to profit from an endless war in
Afghanistan. To enhance the credibility of their reports, Russian state media outlets
frequently interview Afghan politicians and security experts who harbor anti-American
sentiments that are shared by large sections of the local population.

In addition to delegitimizing the U.S. military presence in Afghanistan through information
warfare, Russia will likely try to encircle remaining U.S. troops through expanded military
involvement in Central Asia. On June 21, Russia announced its decision to upgrade its aerial
defenses in Kyrgyzstan and Tajikistan, in order to respond to the threat posed by unmanned
aerial vehicles (UAVs). On June 27, Russian Security Council Secretary Nikolay Patrushev
announced Moscow’s intention to strengthen Tajikistan’s army and security forces at a
Collective Security Treaty Organization (CSTO) meeting in Bishkek. Patrushev justified this
decision by emphasizing the threat posed by the return of Islamic State militants from Iraq
and Syria to northern Afghanistan. The expansion of Russia’s military presence in Central
Asia increases the likelihood of Moscow launching unilateral counterterrorism or
anti-narcotics missions, which might disrupt U.S. objectives.

Although a new round of talks between the U.S., Russia, and China is scheduled to be held in
Moscow in late July, it remains uncertain whether the United Statesand Russia will be able
to reach a common understanding on what an American withdrawal from Afghanistan entails. The
editor of Russia in Global Affairs magazine, Fyodor Lukyanov, cautioned readers of
Moscow-based business daily Vedomosti in February that U.S.-Russia dialogue on Afghanistan
remains a “mere exchange of mutual services when something is needed on narrow topics,”
rather than a platform for genuine cooperation. This sobering assessment underscores the
obstacles to U.S.-Russia collaboration on stabilizing Afghanistan and will likely remain a
geopolitical reality, unless Washington and Moscow can strike a deal on a mutually accepted
U.S. withdrawal from Afghanistan.
"""
)

# The seed page shows no standfirst; this one summarises it without repeating the body.
SEED_LEAD = (
    "Talks in Beijing brought American and Russian diplomats closer on Afghanistan, but the "
    "two still disagree on what a U.S. withdrawal would mean."
)

# --- The seed page's sidebar lists, newest first, spelled exactly as on the page. ---
# Each title is paired with the rubric it is filed under here (the page does not say).

SIDEBAR = {
    "exclusive": (
        ("Destruction of Ukraines Central Bank", "Economy"),
        ("The World files their 27 Grievances against the United States of America.",
         "Americas"),
        ("Yom Kippur War Redux Petrol D0llars Last Hurrah", "Energy"),
        ("How the Alchemists saved the Planet in 2019", "Economy"),
        ("What will the US Treaty of Paris look like?", "Politics"),
        ("Addition by Subtraction, (x, y)\u21a6x\u2212y", "Economy"),
        ("Too Little, Too Late, will there be a Romanov ending for the Sudairi Seven?",
         "Middle East"),
        ("Week 21: When economic arguments end, the arms race begins", "Global Security"),
    ),
    "news": (
        ("Afghan Taliban leader accuses U.S. of creating doubts over pact", "Global Security"),
        ("Kyrgyz President Accuses Atambayev of Violating Constitution by Resisting Detention",
         "Politics"),
        ("Chinese foreign ministry slams U.S. interference in Venezuela", "Americas"),
        ("With an eye on Russia, China and a horse, Pentagon chief visits Mongolia",
         "Asia-Pacific"),
        ("Pentagon Claims Iran Uses GPS Jamming in the Gulf So It Can Lure and Seize Foreign "
         "Ships", "Middle East"),
        ("USAF X-37B Military Space Planes Mystery Mission Circling Earth Hits 700 Days",
         "Technology"),
        ("China destabilizing Indo-Pacific: U.S. Defense Secretary", "Asia-Pacific"),
        ("EU must change its negotiating terms for Brexit, says Barclay", "Europe"),
    ),
    "reports": (
        ("A Brief History of the CIAs Dirty War in South Sudan", "Global Security"),
        ("US GDP report: Keynes on steroids", "Economy"),
        (SEED_TITLE, SEED_RUBRIC),
        ("The IMF Takeover of Pakistan", "Economy"),
        ("Voices from Syrias Rukban Refugee Camp Belie Corporate Media Reporting",
         "Middle East"),
        ("Report Shows Corporations and Bolsonaro Teaming Up to Destroy the Amazon",
         "Americas"),
        ("Ukraine: the presidents change, but the oligarchical system remains the same",
         "Europe"),
        ("The Cowardice of Aung San Suu Kyi", "Asia-Pacific"),
    ),
    "commentaries": (
        ("The Biggest Threat to the US Indo-Pacific Strategy? Washington Itself.",
         "Asia-Pacific"),
        ("Ukraine on the cusp of change", "Europe"),
        ("Indias Looming Agricultural Crisis: A Unique Chance to Change the System?",
         "Society"),
        ("The Saker interviews Stephen Karganovic", "Politics"),
        ("Media and Politicians Ignore Oncoming Financial Crisis", "Economy"),
        ("In an astonishing turn, George Soros and Charles Koch team up to end US forever war "
         "policy", "Global Security"),
        ("Vladimir Putin says liberalism has become obsolete", "Politics"),
        ("You Are Fighting In The Most Important Battle Of All Time", "Society"),
    ),
    "analysis": (
        ("A battle for supremacy between China and the US", "Global Security"),
        ("UAE Withdrawal from Yemen", "Middle East"),
        ("US, Pakistan move in tandem to end Afghan war", "Asia-Pacific"),
        ("Is Baoshang Bank Chinas Lehman Brothers?", "Economy"),
        ("From the Green Revolution to GMOs: Toxic Agriculture Is the Problem Not the "
         "Solution", "Society"),
        ("OPEC+ oil supply cuts signal smooth Gulf sailing", "Energy"),
        ("G20 Osaka: the end of American leadership?", "Politics"),
        ("Trumps Brilliant Strategy to Dismember U.S. Dollar Hegemony", "Economy"),
    ),
}  # fmt: skip

# Newest item of each list (naive UTC); Reports is anchored on the seed article instead.
SIDEBAR_NEWEST = {
    "exclusive": dt.datetime(2019, 7, 22, 16, 40),
    "news": dt.datetime(2019, 7, 23, 6, 55),
    "commentaries": dt.datetime(2019, 7, 22, 19, 10),
    "analysis": dt.datetime(2019, 7, 23, 3, 25),
}

# Flagged hot so the "Hot news" strip shows the seed page's era.
HOT_TITLES = frozenset(
    {
        "Afghan Taliban leader accuses U.S. of creating doubts over pact",
        "Kyrgyz President Accuses Atambayev of Violating Constitution by Resisting Detention",
        "Chinese foreign ministry slams U.S. interference in Venezuela",
        "Pentagon Claims Iran Uses GPS Jamming in the Gulf So It Can Lure and Seize Foreign Ships",
        "Destruction of Ukraines Central Bank",
    }
)

# (display name, bio, rubrics they mostly write on). Everyone but Samuel Ramani is invented.
AUTHORS = (
    (SEED_AUTHOR, SEED_BIO, ("Global Security", "Middle East", "Asia-Pacific", "Europe")),
    ("Elena Markova",
     "Elena Markova covers energy markets and Eurasian politics. She previously reported "
     "from Kyiv and Baku for a regional news agency.",
     ("Energy", "Europe")),
    ("James Whitfield",
     "James Whitfield is a former diplomat who writes on transatlantic security and arms "
     "control.",
     ("Global Security", "Politics")),
    ("Priya Raman",
     "Priya Raman is an economist focusing on South Asia, development finance and food "
     "security.",
     ("Asia-Pacific", "Economy", "Society")),
    ("Tom\u00e1s Ortega",
     "Tom\u00e1s Ortega is our Latin America correspondent, based in Bogot\u00e1. He writes on "
     "trade, commodities and regional politics.",
     ("Americas", "Economy")),
    ("Leila Haddad",
     "Leila Haddad reports on the Gulf and the Levant, with a focus on migration and "
     "reconstruction.",
     ("Middle East", "Society")),
    ("Martin Kessler",
     "Martin Kessler writes on European economic policy and the politics of the eurozone.",
     ("Economy", "Europe")),
    ("Anna Sokolova",
     "Anna Sokolova covers technology policy, cybersecurity and the digital economy.",
     ("Technology", "Society")),
    ("Hiroshi Tanaka",
     "Hiroshi Tanaka is a Tokyo-based analyst of East Asian security and the technology "
     "race between the United States and China.",
     ("Asia-Pacific", "Technology")),
)  # fmt: skip

# Generated articles: published over the three years before the seed lists begin, so
# they never displace a seed title from a sidebar; scheduled ones far enough ahead that
# they stay scheduled for as long as this code is likely to run.
GENERATED_FROM = dt.datetime(2016, 7, 1)
GENERATED_UNTIL = dt.datetime(2019, 7, 1)
SCHEDULED_YEAR = 2099
SECTION_WEIGHTS = {"exclusive": 1, "news": 4, "reports": 2, "commentaries": 1.5, "analysis": 1.5}
DRAFT_SHARE = 0.01
HOT_SHARE = 0.005
BATCH_SIZE = 1000  # 14 columns x 1000 rows stays under SQLite's default 32766 variables

ARTICLE_FIELDS = (
    Article.title, Article.slug, Article.lead, Article.body, Article.section, Article.rubric,
    Article.author, Article.hot, Article.status, Article.published_at, Article.created_at,
    Article.updated_at, Article.version, Article.deleted_at,
)  # fmt: skip


# --- Vocabulary for generated articles -------------------------------------------------

Place = namedtuple("Place", "name capital adjective region")

PLACES = tuple(
    Place(*row)
    for row in (
        ("Russia", "Moscow", "Russian", "Europe"),
        ("Ukraine", "Kyiv", "Ukrainian", "Europe"),
        ("Germany", "Berlin", "German", "Europe"),
        ("France", "Paris", "French", "Europe"),
        ("Italy", "Rome", "Italian", "Europe"),
        ("Poland", "Warsaw", "Polish", "Europe"),
        ("Hungary", "Budapest", "Hungarian", "Europe"),
        ("Britain", "London", "British", "Europe"),
        ("Spain", "Madrid", "Spanish", "Europe"),
        ("Greece", "Athens", "Greek", "Europe"),
        ("Serbia", "Belgrade", "Serbian", "Europe"),
        ("Belarus", "Minsk", "Belarusian", "Europe"),
        ("Iran", "Tehran", "Iranian", "Middle East"),
        ("Iraq", "Baghdad", "Iraqi", "Middle East"),
        ("Syria", "Damascus", "Syrian", "Middle East"),
        ("Saudi Arabia", "Riyadh", "Saudi", "Middle East"),
        ("Turkey", "Ankara", "Turkish", "Middle East"),
        ("Egypt", "Cairo", "Egyptian", "Middle East"),
        ("Jordan", "Amman", "Jordanian", "Middle East"),
        ("Lebanon", "Beirut", "Lebanese", "Middle East"),
        ("Qatar", "Doha", "Qatari", "Middle East"),
        ("the UAE", "Abu Dhabi", "Emirati", "Middle East"),
        ("China", "Beijing", "Chinese", "Asia-Pacific"),
        ("Japan", "Tokyo", "Japanese", "Asia-Pacific"),
        ("India", "New Delhi", "Indian", "Asia-Pacific"),
        ("Pakistan", "Islamabad", "Pakistani", "Asia-Pacific"),
        ("Indonesia", "Jakarta", "Indonesian", "Asia-Pacific"),
        ("Vietnam", "Hanoi", "Vietnamese", "Asia-Pacific"),
        ("South Korea", "Seoul", "South Korean", "Asia-Pacific"),
        ("Australia", "Canberra", "Australian", "Asia-Pacific"),
        ("the Philippines", "Manila", "Philippine", "Asia-Pacific"),
        ("Afghanistan", "Kabul", "Afghan", "Asia-Pacific"),
        ("Mongolia", "Ulaanbaatar", "Mongolian", "Asia-Pacific"),
        ("the United States", "Washington", "American", "Americas"),
        ("Brazil", "Bras\u00edlia", "Brazilian", "Americas"),
        ("Mexico", "Mexico City", "Mexican", "Americas"),
        ("Venezuela", "Caracas", "Venezuelan", "Americas"),
        ("Argentina", "Buenos Aires", "Argentine", "Americas"),
        ("Canada", "Ottawa", "Canadian", "Americas"),
        ("Colombia", "Bogot\u00e1", "Colombian", "Americas"),
        ("Chile", "Santiago", "Chilean", "Americas"),
        ("Peru", "Lima", "Peruvian", "Americas"),
    )
)

# Per rubric: singular noun phrases it is about (so "the X is ..." stays grammatical),
# and quantities its stories quote.
TOPICS = {
    "Global Security": (
        ("the arms control treaty", "the missile defense program", "the naval buildup",
         "the counterterrorism mission", "the peacekeeping mandate", "the border ceasefire",
         "the drone program", "the intelligence-sharing pact", "the troop withdrawal",
         "the defense budget", "the military base agreement"),
        ("military spending", "the arms import bill", "the number of border incidents"),
    ),
    "Economy": (
        ("the budget deficit", "the trade deal", "the tariff regime", "the pension reform",
         "the debt restructuring", "the inflation target", "the privatization program",
         "the currency peg", "the banking bailout", "the tax overhaul"),
        ("public debt", "the trade deficit", "consumer price inflation", "foreign investment"),
    ),
    "Politics": (
        ("the coalition deal", "the constitutional reform", "the snap election",
         "the opposition movement", "the anti-corruption campaign", "the cabinet reshuffle",
         "the impeachment inquiry", "the electoral law", "the decentralization plan",
         "the referendum"),
        ("support for the ruling party", "voter turnout", "trust in parliament"),
    ),
    "Energy": (
        ("the gas pipeline", "the oil output deal", "the nuclear power program",
         "the LNG terminal", "the renewable energy auction", "the coal phase-out",
         "the refinery expansion", "the fuel subsidy scheme", "the offshore drilling license",
         "the grid modernization plan"),
        ("gas demand", "oil output", "the price of electricity", "solar capacity"),
    ),
    "Society": (
        ("the migration policy", "the healthcare reform", "the education budget",
         "the minimum wage increase", "the housing shortage", "the teachers\u2019 strike",
         "the press freedom law", "the census", "the youth unemployment crisis",
         "the pension age debate"),
        ("the unemployment rate", "the number of asylum applications", "household debt",
         "the average rent"),
    ),
    "Technology": (
        ("the 5G rollout", "the data localization law", "the semiconductor plant",
         "the satellite launch program", "the digital currency pilot", "the chip export ban",
         "the artificial intelligence strategy", "the social media law",
         "the undersea cable project", "the cybersecurity strategy"),
        ("online retail spending", "broadband coverage", "venture capital funding",
         "the value of chip imports"),
    ),
    "Middle East": (
        ("the nuclear deal", "the Yemen ceasefire", "the reconstruction of Syria",
         "the Gulf blockade", "the water-sharing dispute", "the refugee return plan",
         "the maritime security initiative", "the Kurdish autonomy question",
         "the oil-for-reconstruction deal"),
        ("oil revenue", "the number of displaced people", "military spending",
         "trade with neighboring states"),
    ),
    "Asia-Pacific": (
        ("the South China Sea dispute", "the Belt and Road loan", "the Kashmir dispute",
         "the regional trade pact", "the North Korea dialogue", "the Afghan peace process",
         "the Mekong dam project", "the Quad security dialogue", "the port concession"),
        ("the value of exports to China", "military spending", "foreign investment",
         "the trade surplus"),
    ),
    "Europe": (
        ("the Brexit deal", "the eurozone budget", "the Nord Stream 2 pipeline",
         "the Minsk agreement", "the EU migration pact", "the rule-of-law dispute",
         "the Balkan enlargement process", "the gas transit contract", "the Schengen reform"),
        ("public debt", "the gas import bill", "support for populist parties", "the trade surplus"),
    ),
    "Americas": (
        ("the Venezuelan crisis", "the NAFTA replacement", "the Amazon deforestation crisis",
         "the border wall", "the Mercosur trade deal", "the Colombian peace accord",
         "the lithium boom", "the pension overhaul", "the Cuba embargo"),
        ("the rate of deforestation", "the inflation rate", "the flow of remittances",
         "soybean export revenue"),
    ),
}  # fmt: skip

WORDS = {
    "said": ("said", "argued", "warned", "noted", "insisted", "acknowledged"),
    "told": ("told reporters", "told a news conference", "said in a televised interview",
             "told lawmakers", "said in a statement"),
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"),
    "modal": ("would", "could", "might", "is likely to", "threatens to"),
    "outcome": (
        "reshape the regional balance of power", "deepen the country\u2019s dependence on "
        "foreign credit", "test the government\u2019s fragile majority", "slow the pace of "
        "reform", "strengthen the hand of hardliners", "open the door to a broader settlement",
        "raise costs for ordinary households", "leave investors guessing for months",
        "widen the rift with neighboring states", "unsettle financial markets",
        "force a rethink of long-standing policy", "revive talks that stalled last year",
        "trigger a fresh round of sanctions", "shift the burden onto local authorities",
        "expose the limits of the government\u2019s leverage", "lock in higher prices for years",
    ),
    "reaction": ("was welcomed", "drew sharp criticism", "was met with skepticism",
                 "caught many observers by surprise", "was received cautiously",
                 "sparked street protests"),
    "assessment": ("a pragmatic compromise", "a tactical retreat", "a long-overdue correction",
                   "a dangerous precedent", "a sign of weakness", "a calculated gamble",
                   "a victory for the hardliners"),
    "cause": ("mounting pressure at home", "the slowdown in global trade",
              "a shift in the regional balance of power", "years of underinvestment",
              "growing frustration with the pace of change",
              "a deepening split within the ruling elite", "the approach of an election season",
              "tighter financing conditions"),
    "event": ("the collapse of the previous round of talks", "a change of government",
              "a wave of street protests", "a sharp fall in commodity prices",
              "the imposition of new sanctions", "a corruption scandal", "a disputed election"),
    "stance": ("reluctant", "determined", "unwilling", "prepared", "in no hurry", "keen"),
    "action": ("compromise", "change course", "commit to a firm timetable",
               "walk away from the talks", "make further concessions", "put the issue to a vote",
               "raise the stakes"),
    "action_ing": ("reaching a compromise", "changing course", "selling the plan at home",
                   "keeping partners on board", "meeting the deadline",
                   "financing the program"),
    "timeframe": ("next year", "by the end of the year", "within months",
                  "before the next election", "over the coming decade", "in the coming weeks",
                  "as early as next month"),
    "charge": ("mismanagement", "complacency", "overreach", "secrecy", "incompetence"),
    "mood": ("businesslike", "tense", "cautiously optimistic", "frosty", "constructive"),
    "direction": ("higher", "lower"),
    "count": ("two", "three", "four", "five", "six", "several"),
    "official": ("a senior {adj} official", "{adj} officials",
                 "a spokesperson for the {adj} government", "the {adj} foreign ministry",
                 "{adj} negotiators", "a senior {adj} diplomat", "officials in {capital}"),
    "first_name": ("Anna", "Daniel", "Mariam", "Oleg", "Sofia", "Rahul", "Wei", "Laura",
                   "Tomasz", "Yusuf", "In\u00e8s", "Kenji", "Grace", "Pavel", "Nadia", "Marco",
                   "Amir", "Julia", "Victor", "Leyla"),
    "last_name": ("Berger", "Costa", "Farouk", "Ivanov", "Kowalski", "Lindqvist", "Mehta",
                  "Novak", "Okafor", "Petrova", "Reyes", "Sato", "Schneider", "Tan", "Vargas",
                  "Wright", "Yilmaz", "Zhang", "Moreau", "Hadid"),
    "expert_role": ("a senior fellow at", "an economist at", "a political scientist at",
                    "a researcher at", "director of research at",
                    "a former diplomat now at"),
    "institute": ("the Meridian Policy Institute", "the Halden Institute for Economic Research",
                  "the Kellerman Center for Global Affairs", "the Ostrander Institute",
                  "the Lindgren Center for Security Studies", "the Pacific Rim Policy Council",
                  "the Marlowe School of International Affairs",
                  "the Institute for Eurasian Economic Studies"),
    "quote": (
        "We are not going to accept conditions written somewhere else",
        "Nobody in this building believes the problem will solve itself",
        "The numbers do not lie, but they do not tell the whole story either",
        "This is a question of trust, and trust has to be earned",
        "We have been patient, but patience is not a strategy",
        "Every delay makes the eventual settlement more expensive",
        "The door remains open, but the other side has to walk through it",
        "People want results, not another round of promises",
        "There is no military solution, and everyone at the table knows it",
        "We will defend our interests by every legal means available",
        "The market has already priced in a great deal of bad news",
        "What looks like a concession today may be leverage tomorrow",
        "Our partners need to understand that the old rules no longer apply",
        "It is too early to speak of a breakthrough",
        "We are ready to talk, but not under pressure",
    ),
    "analysis_tail": ("a turning point or a false dawn?", "what comes next",
                      "winners and losers", "the view from the region", "a reality check",
                      "the numbers behind the headlines"),
    "abstract": ("leverage", "diplomacy", "reform", "sanctions", "soft power",
                 "state capitalism"),
    "heading": ("The view from {capital}", "What {capital} wants", "A test for {place}",
                "Counting the cost", "Old habits", "What comes next", "The domestic angle",
                "Leverage and its limits", "A fragile consensus", "Follow the money",
                "The long game", "Winners and losers", "Between {capital} and {capital2}"),
}  # fmt: skip

# Body sentences; a paragraph draws several without repeating one. Subjects are
# policies ("the tax overhaul") as well as problems ("the housing shortage"), so every
# template has to read well with either.
SENTENCES = (
    "{Official} {said} on {weekday} that {subject} {modal} {outcome}.",
    "The latest decision on {subject} {reaction} in {capital}, where many saw it as {assessment}.",
    "\u201c{quote},\u201d {official} {told}.",
    "According to {expert}, the debate over {subject} reflects {cause}.",
    "{Adj} officials have so far declined to say whether {subject} {modal} {outcome}.",
    "Since {year}, {poss} approach to {subject} has shifted several times, most recently "
    "after {event}.",
    "Critics argue that {subject} {modal} {outcome}, while others counter that the "
    "alternatives would be worse.",
    "The figures are striking: {metric} rose by {pct} percent last year, the sharpest "
    "increase since {year}.",
    "{Place} and {place2} have held {count} rounds of talks on {subject} without a breakthrough.",
    "For now, {capital} appears {stance} to {action}.",
    "That calculation may change {timeframe}.",
    "The stakes extend well beyond {place}.",
    "Observers in {capital2} are watching closely, since {subject} {modal} {outcome}.",
    "{Expert}, {said} that {cause} had left the government with few good options.",
    "The government has set aside {money} to deal with {subject}, a sum critics say falls "
    "short of what is needed.",
    "Much will depend on how {place2} responds.",
    "Few expect a quick resolution.",
    "None of this means that the argument over {subject} is settled, but it does mean that "
    "{action_ing} will be harder than {capital} admits.",
    "{Adj2} diplomats have privately signaled that they are open to a compromise on {subject}.",
    "In private, {adj} officials concede that {metric} is unlikely to stabilize {timeframe}.",
    "A recent survey found that {share} percent of respondents were dissatisfied with the "
    "government\u2019s handling of {subject}.",
    "The episode also revealed how little leverage {place} retains over {place2}.",
    "{Poss} partners, meanwhile, have grown impatient.",
    "Officials in {capital} have tried to play down the significance of {subject}.",
    "The opposition has seized on {subject} to accuse the government of {charge}.",
    "Business groups in {capital} have lobbied hard for a delay.",
    "The issue is expected to dominate a summit in {capital2} later this month.",
    "It is not the first time {subject} has tested relations between {place} and {place2}.",
    "Behind the public statements lies a more pragmatic calculation.",
    "The opposition has promised to revisit {subject} if it wins power.",
    "Markets reacted calmly, with {poss} benchmark index closing {small_pct} percent {direction}.",
    "{Adj} media have given the story extensive coverage, much of it critical.",
    "Regional governments have complained that they were not consulted on {subject}.",
    "The compromise now on the table would leave the most contentious questions for later.",
    "Some in {capital} argue that the government has little choice.",
    "Diplomats describe the mood in the talks as {mood}.",
    "{Place2} has so far kept its distance, wary of being drawn into the dispute.",
    "Independent economists are more skeptical.",
    "The numbers tell only part of the story.",
    "Officials say a decision on {subject} will not be rushed.",
    "Rights groups have raised concerns about the way {subject} has been handled.",
    "{Expert}, put it more bluntly: the government has run out of easy options.",
)

# Sentences carrying a link; their slot values are escaped, their markup is not.
LINK_SENTENCES = (
    '{Expert}, made a similar argument in <a href="{url}">a recent paper</a>.',
    'The text of the agreement <a href="{url}">has been published</a> by the {adj} government.',
    'As we <a href="{url}">reported earlier</a>, talks on {subject} have been stalled for months.',
    'The government\u2019s position on {subject} is set out in <a href="{url}">an official '
    "summary</a>.",
)

# One or two sentences, drawn together so that they share their place and subject.
LEADS = (
    ("{Place} is under growing pressure over {subject}, and the decision it takes "
     "{timeframe} {modal} {outcome}.",),
    ("A dispute over {subject} has exposed deep divisions in {capital}.",
     "{Adj} officials insist a compromise is within reach."),
    ("{Adj} officials say the response to {subject} is on track, but the latest figures for "
     "{metric} tell a different story.",),
    ("Talks between {place} and {place2} on {subject} resumed this week after a pause of "
     "several months.", "Neither side expects a quick breakthrough."),
    ("The debate over {subject} is no longer only about {place}.",),
    ("{Poss} handling of {subject} has become a test of the government\u2019s credibility.",),
    ("What began as a technical argument over {subject} has turned into a political crisis.",
     "The fallout is already being felt in {capital2}."),
    ("{Capital} is betting that it can contain the fallout from {subject}.",
     "Not everyone is convinced."),
    ("New figures show {metric} rising by {pct} percent, putting {subject} back at the top of "
     "the agenda.",),
)  # fmt: skip

TITLES = {
    "news": (
        "{Place} and {place2} agree to resume talks on {bare_subject}",
        "Protests grow in {capital} over {bare_subject}",
        "{Adj} officials signal shift on {bare_subject}",
        "{Place} seeks {adj2} support on {bare_subject}",
        "{Place} warns {place2} over {bare_subject}",
        "{Adj} minister resigns over {bare_subject}",
        "{Place} under pressure over {bare_subject}",
        "{Adj} parliament to debate {bare_subject}",
    ),
    "reports": (
        "Inside {poss} {bare_subject}",
        "How {subject} is reshaping {place}",
        "On the ground in {capital}: {subject} and its discontents",
        "The hidden cost of {poss} {bare_subject}",
        "In {capital}, {subject} divides a nation",
    ),
    "commentaries": (
        "Why {place} should rethink its approach to {subject}",
        "{Place} is getting {subject} wrong",
        "The real lesson of {subject}",
        "{Subject} is a warning {place2} should heed",
        "{Place} cannot afford to ignore {subject}",
        "What everyone gets wrong about {subject}",
    ),
    "analysis": (
        "What {subject} means for {place2}",
        "Is {subject} a turning point for {place}?",
        "Can {place} afford {subject}?",
        "{Poss} {bare_subject} and the limits of {abstract}",
        "{Subject}: {analysis_tail}",
    ),
    "exclusive": (
        "Documents reveal {poss} thinking on {subject}",
        "Leaked memo shows doubts in {capital} over {bare_subject}",
        "{Place} quietly changes course on {subject}",
        "Sources: {place} prepares U-turn on {bare_subject}",
        "Behind closed doors: how {capital} handled {subject}",
    ),
}


def _capitalize(text):
    return text[:1].upper() + text[1:]


def _possessive(name):
    return name + ("\u2019" if name.endswith("s") else "\u2019s")


class _Slots(dict):
    """Fills template slots on demand for one paragraph, lead or title.

    Places and subjects stick for the whole text so that it stays on one story;
    everything else is drawn afresh at each use. "{Place}" is "{place}" capitalized.
    """

    STICKY = frozenset({"place", "place2", "subject"})

    def __init__(self, writer, rubric, subject=None):
        super().__init__()
        self.writer = writer
        self.rubric = rubric
        if subject:
            self["subject"] = subject

    def __missing__(self, key):
        if key[0].isupper():
            return _capitalize(self[key[0].lower() + key[1:]])
        value = self.writer.fill(key, self)
        if key in self.STICKY:
            self[key] = value
        return value


class _EscapedSlots:
    """A view of `_Slots` whose values are HTML-escaped, for templates holding markup."""

    def __init__(self, slots):
        self.slots = slots

    def __getitem__(self, key):
        return html.escape(self.slots[key])


class _Writer:
    """Generates titles, leads and bodies that read like news and analysis prose.

    Each article is about one subject of its rubric: its title, lead and paragraphs
    all come from that subject's pools.
    """

    PARAGRAPHS_PER_SUBJECT = 40
    LEADS_PER_SUBJECT = 20
    EXTRAS_PER_RUBRIC = 40
    LINK_SHARE = 0.12

    def __init__(self, rng):
        self.rng = rng
        self.places = {
            rubric: [p for p in PLACES if p.region == rubric] or list(PLACES) for rubric in RUBRICS
        }
        self.by_name = {p.name: p for p in PLACES}
        # Bodies are sampled from pools built (and sanitized) once: generating and
        # sanitizing 100,000 bodies one by one would dominate the load time.
        self.paragraphs, self.leads = {}, {}
        self.headings, self.quotes, self.lists = {}, {}, {}
        for rubric in RUBRICS:
            for subject in TOPICS[rubric][0]:
                key = (rubric, subject)
                self.paragraphs[key] = [
                    clean_html(self._paragraph(rubric, subject))
                    for _ in range(self.PARAGRAPHS_PER_SUBJECT)
                ]
                self.leads[key] = [
                    self._lead(rubric, subject) for _ in range(self.LEADS_PER_SUBJECT)
                ]
            extras = range(self.EXTRAS_PER_RUBRIC)
            self.headings[rubric] = [clean_html(self._heading(rubric)) for _ in extras]
            self.quotes[rubric] = [clean_html(self._blockquote()) for _ in extras]
            self.lists[rubric] = [clean_html(self._list(rubric)) for _ in extras]

    # Slot values

    def fill(self, key, slots):
        rng = self.rng
        if key in ("place", "place2"):
            other = slots.get("place2" if key == "place" else "place")
            return rng.choice([p.name for p in self.places[slots.rubric] if p.name != other])
        if key == "subject":
            return rng.choice(TOPICS[slots.rubric][0])
        if key in ("capital", "adj", "poss", "capital2", "adj2", "poss2"):
            place = self.by_name[slots["place2" if key.endswith("2") else "place"]]
            if key.startswith("capital"):
                return place.capital
            return place.adjective if key.startswith("adj") else _possessive(place.name)
        if key == "bare_subject":
            return slots["subject"].removeprefix("the ")
        if key == "metric":
            return rng.choice(TOPICS[slots.rubric][1])
        if key == "official":
            return rng.choice(WORDS["official"]).format(adj=slots["adj"], capital=slots["capital"])
        if key == "expert":
            name = f"{rng.choice(WORDS['first_name'])} {rng.choice(WORDS['last_name'])}"
            return f"{name}, {rng.choice(WORDS['expert_role'])} {rng.choice(WORDS['institute'])}"
        if key == "year":
            return str(rng.randint(2008, 2015))
        if key == "pct":
            return f"{rng.randint(15, 400) / 10:.1f}"
        if key == "small_pct":
            return f"{rng.randint(1, 35) / 10:.1f}"
        if key == "share":
            return str(rng.randint(35, 72))
        if key == "money":
            return f"${rng.randint(12, 480) / 10:.1f} billion"
        if key == "url":
            # Reserved example domains: demo links must never point at a real site.
            tld = rng.choice(("org", "com", "net"))
            path = f"{rng.randint(2016, 2019)}/{slugify(slots['subject'])}"
            return f"https://www.example.{tld}/{path}"
        return rng.choice(WORDS[key])

    # Building blocks

    def _paragraph(self, rubric, subject):
        """One <p> of 40-120 words on a single place and subject."""
        rng = self.rng
        slots = _Slots(self, rubric, subject)
        target = rng.randint(40, 120)
        sentences, words = [], 0
        for template in rng.sample(SENTENCES, len(SENTENCES)):
            sentence = html.escape(template.format_map(slots), quote=False)
            length = sentence.count(" ") + 1
            if words >= 40 and words + length > target:
                continue  # a shorter sentence may still fit
            sentences.append(_capitalize(sentence))
            words += length
            if words >= target - 5:
                break
        if rng.random() < self.LINK_SHARE:
            link = rng.choice(LINK_SENTENCES).format_map(_EscapedSlots(slots))
            sentences.insert(rng.randint(1, len(sentences)), link)
        return f"<p>{' '.join(sentences)}</p>"

    def _lead(self, rubric, subject):
        """Plain text: the lead is shown escaped, never as HTML."""
        slots = _Slots(self, rubric, subject)
        sentences = self.rng.choice(LEADS)
        return " ".join(_capitalize(s.format_map(slots)) for s in sentences)

    def _heading(self, rubric):
        text = self.rng.choice(WORDS["heading"]).format_map(_Slots(self, rubric))
        return f"<h2>{html.escape(text)}</h2>"

    def _blockquote(self):
        quote = html.escape(self.rng.choice(WORDS["quote"]))
        return f"<blockquote><p>\u201c{quote}.\u201d</p></blockquote>"

    def _list(self, rubric):
        slots = _Slots(self, rubric)
        items = self.rng.sample(TOPICS[rubric][0], 3)
        intro = f"Three issues dominate the agenda in {slots['capital']}:"
        lines = "".join(f"<li>{html.escape(_capitalize(item))}</li>" for item in items)
        return f"<p>{html.escape(intro)}</p>\n<ul>{lines}</ul>"

    # Articles

    def article(self, section_slug, rubric):
        """(title, lead, body) of a generated article."""
        rng = self.rng
        subject = rng.choice(TOPICS[rubric][0])
        slots = _Slots(self, rubric, subject)
        title = _capitalize(rng.choice(TITLES[section_slug]).format_map(slots))
        return title, rng.choice(self.leads[rubric, subject]), self.body(rubric, subject)

    def lead_and_body(self, rubric):
        subject = self.rng.choice(TOPICS[rubric][0])
        return self.rng.choice(self.leads[rubric, subject]), self.body(rubric, subject)

    def body(self, rubric, subject):
        """4-12 paragraphs, now and then with a subheading, a quotation or a list."""
        rng = self.rng
        blocks = rng.sample(self.paragraphs[rubric, subject], rng.randint(4, 12))
        if len(blocks) >= 6 and rng.random() < 0.3:
            blocks.insert(rng.randint(2, len(blocks) - 2), rng.choice(self.headings[rubric]))
        if rng.random() < 0.15:
            blocks.insert(rng.randint(1, len(blocks) - 1), rng.choice(self.quotes[rubric]))
        if rng.random() < 0.1:
            blocks.insert(rng.randint(1, len(blocks) - 1), rng.choice(self.lists[rubric]))
        return "\n".join(blocks)


# --- Loading -----------------------------------------------------------------------------


def load_demo(article_count=0, progress=None):
    """Fill an empty database with the demo site and return counts of what was added.

    The caller has created the tables and connected `models.database`. A database with
    any content or account is refused: it is someone's site, and the demo marks the
    database it fills as one where demo logins may be made. It all runs in one
    transaction, so a failure leaves the database as it was. `progress(done, total)`,
    if given, is called after each batch of generated articles.
    """
    rng = random.Random(RANDOM_SEED)
    with database.atomic():
        if holds_a_site():
            raise RuntimeError("load_demo needs a database without content or accounts")
        _save_settings()
        sections = _insert_taxonomy(Section, SECTIONS)
        rubrics = _insert_taxonomy(Rubric, [(name, slugify(name)) for name in RUBRICS])
        authors = _insert_authors()
        loader = _Loader(rng, sections, rubrics, authors)
        Article.insert_many(loader.seed_rows(), fields=ARTICLE_FIELDS).execute()
        generated = loader.insert_generated(article_count, progress)
        ArticleIndex.rebuild()
        SiteSettings.bump_content_version()
    return {
        "sections": len(sections),
        "rubrics": len(rubrics),
        "authors": len(authors),
        "seed_articles": sum(len(titles) for titles in SIDEBAR.values()),
        **generated,
    }


def holds_a_site():
    """Whether the database has any content or account: someone's site, not the demo's."""
    return any(model.select().exists() for model in (Section, Rubric, Article, User))


def _save_settings():
    values = {**SITE_SETTINGS, "demo": True}  # the mark that allows demo logins (commands.py)
    if not SiteSettings.update(**values).where(SiteSettings.id == 1).execute():
        SiteSettings.insert(id=1, **values).execute()


def _insert_taxonomy(model, names_and_slugs):
    """Rows in the given order; returns {name: id} (sections are looked up by slug)."""
    ids = {}
    for position, (name, slug) in enumerate(names_and_slugs):
        row = model.create(name=name, slug=slug, position=position)
        ids[slug if model is Section else name] = row.id
    return ids


def _insert_authors():
    """Contributor profiles without logins; returns {name: (id, rubrics)}."""
    authors = {}
    for index, (name, bio, rubrics) in enumerate(AUTHORS):
        user = User.create(
            role="author",
            email=None,
            password_hash=None,
            display_name=name,
            slug=slugify(name),
            bio=bio,
            created_at=dt.datetime(2015, 9, 1, 10) + dt.timedelta(days=37 * index),
        )
        authors[name] = (user.id, rubrics)
    return authors


class _Loader:
    """Builds article rows (tuples in ARTICLE_FIELDS order) for the seed and generated content."""

    def __init__(self, rng, sections, rubrics, authors):
        self.rng = rng
        self.sections = sections
        self.rubrics = rubrics
        self.writer = _Writer(rng)
        self.author_ids = {name: author_id for name, (author_id, _) in authors.items()}
        self.specialists = {
            rubric: [author_id for author_id, rubrics in authors.values() if rubric in rubrics]
            for rubric in RUBRICS
        }
        slugs = list(SECTION_WEIGHTS)
        weights = [SECTION_WEIGHTS[slug] for slug in slugs]
        self.section_slugs = slugs
        self.section_cum_weights = [sum(weights[: i + 1]) for i in range(len(weights))]

    def author_for(self, rubric):
        """Mostly someone who covers the rubric, sometimes anyone on the team."""
        if self.rng.random() < 0.75:
            return self.rng.choice(self.specialists[rubric])
        return self.rng.choice(list(self.author_ids.values()))

    def row(self, title, lead, body, section, rubric, author_id, *, hot=False,
            status=Article.PUBLISHED, published_at=None, created_at, updated_at):  # fmt: skip
        return (
            title, slugify(title), lead, body, self.sections[section], self.rubrics[rubric],
            author_id, hot, status, published_at, created_at, updated_at, 1, None,
        )  # fmt: skip

    def published_row(self, title, lead, body, section, rubric, published_at, *, hot=False):
        """A published article: written a while before, and maybe edited after, publication."""
        rng = self.rng
        created_at = published_at - dt.timedelta(minutes=rng.randint(20, 3 * 24 * 60))
        updated_at = published_at
        if rng.random() < 0.4:
            updated_at += dt.timedelta(minutes=rng.randint(5, 2 * 24 * 60))
        return self.row(
            title, lead, body, section, rubric, self.author_for(rubric), hot=hot,
            published_at=published_at, created_at=created_at, updated_at=updated_at,
        )  # fmt: skip

    # The seed page

    def seed_rows(self):
        """The sidebar lists' articles (the seed article among them), oldest first."""
        rows = []
        for section, items in SIDEBAR.items():
            times = self.sidebar_times(section)
            for (title, rubric), published_at in zip(items, times, strict=True):
                if title == SEED_TITLE:
                    rows.append(self.seed_article_row())
                else:
                    lead, body = self.writer.lead_and_body(rubric)
                    rows.append(
                        self.published_row(
                            title, lead, body, section, rubric, published_at,
                            hot=title in HOT_TITLES,
                        )
                    )  # fmt: skip
        published_at = ARTICLE_FIELDS.index(Article.published_at)
        return sorted(rows, key=lambda row: row[published_at])

    def sidebar_times(self, section):
        """Publication times of a sidebar list, newest first, 3 to 9 hours apart."""
        offsets = [dt.timedelta(0)]
        for _ in range(len(SIDEBAR[section]) - 1):
            offsets.append(offsets[-1] - dt.timedelta(minutes=self.rng.randint(180, 540)))
        if section == SEED_SECTION:
            titles = [title for title, _ in SIDEBAR[section]]
            newest = SEED_PUBLISHED_AT - offsets[titles.index(SEED_TITLE)]
        else:
            newest = SIDEBAR_NEWEST[section]
        return [newest + offset for offset in offsets]

    def seed_article_row(self):
        body = "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in SEED_PARAGRAPHS)
        return self.row(
            SEED_TITLE, SEED_LEAD, clean_html(body), SEED_SECTION, SEED_RUBRIC,
            self.author_ids[SEED_AUTHOR], published_at=SEED_PUBLISHED_AT,
            created_at=SEED_PUBLISHED_AT - dt.timedelta(hours=15, minutes=42),
            updated_at=SEED_PUBLISHED_AT,
        )  # fmt: skip

    # Generated articles

    def insert_generated(self, count, progress):
        """Insert `count` generated articles in batches, oldest first; returns counts."""
        rng = self.rng
        span = int((GENERATED_UNTIL - GENERATED_FROM).total_seconds() // 60)
        # Sorted so ids grow with time, as on a real site.
        times = sorted(
            GENERATED_FROM + dt.timedelta(minutes=rng.randrange(span)) for _ in range(count)
        )
        drafts = round(count * DRAFT_SHARE)
        scheduled = max(1, count // 2000) if count >= 100 else 0
        special = rng.sample(range(count), drafts + scheduled)
        draft_indexes, scheduled_indexes = set(special[:drafts]), set(special[drafts:])
        hot = 0
        for start in range(0, count, BATCH_SIZE):
            rows = []
            for index in range(start, min(start + BATCH_SIZE, count)):
                if index in draft_indexes:
                    rows.append(self.unpublished_row(times[index], Article.DRAFT))
                elif index in scheduled_indexes:
                    rows.append(self.unpublished_row(times[index], Article.PUBLISHED))
                else:
                    is_hot = rng.random() < HOT_SHARE
                    hot += is_hot
                    rows.append(self.generated_row(times[index], hot=is_hot))
            Article.insert_many(rows, fields=ARTICLE_FIELDS).execute()
            if progress:
                progress(start + len(rows), count)
        return {"generated": count, "drafts": drafts, "scheduled": scheduled,
                "generated_hot": hot}  # fmt: skip

    def random_section_and_rubric(self):
        rng = self.rng
        section = rng.choices(self.section_slugs, cum_weights=self.section_cum_weights)[0]
        return section, rng.choice(RUBRICS)

    def generated_row(self, published_at, *, hot):
        section, rubric = self.random_section_and_rubric()
        title, lead, body = self.writer.article(section, rubric)
        return self.published_row(title, lead, body, section, rubric, published_at, hot=hot)

    def unpublished_row(self, created_at, status):
        """A draft (no publication time) or a piece scheduled far in the future.

        Both were last edited shortly after being written, so a scheduled piece's
        updated_at is before its publication time.
        """
        rng = self.rng
        section, rubric = self.random_section_and_rubric()
        title, lead, body = self.writer.article(section, rubric)
        published_at = None
        if status == Article.PUBLISHED:
            published_at = dt.datetime(SCHEDULED_YEAR, 1, 1, 6) + dt.timedelta(
                days=rng.randrange(365), minutes=rng.randrange(12 * 60)
            )
        return self.row(
            title, lead, body, section, rubric, self.author_for(rubric), status=status,
            published_at=published_at,
            created_at=created_at,
            updated_at=created_at + dt.timedelta(minutes=rng.randint(5, 3 * 24 * 60)),
        )  # fmt: skip
