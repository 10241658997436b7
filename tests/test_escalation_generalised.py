"""The rules generalised for issue 7: exceptions that no longer swallow ordinary words, the
goodbye rules' own exception, and the ordinary twins of the newer rules.

Rule-level checks read the rules alone (no learned net), so a phrase here is caught or kept
quiet by a rule an admin can see in dialogs/escalation.yaml, not by the net's mood.
"""

from __future__ import annotations

import dataclasses

import pytest

from bot.config import DEFAULT_DIALOGS_DIR
from bot.dialogs.learned import LearnedNet
from bot.dialogs.load import load_dialogs
from bot.engine.signals import explain, scan

RULES = load_dialogs(DEFAULT_DIALOGS_DIR).escalation
RULES_ONLY = dataclasses.replace(RULES, learned=LearnedNet())


def rules_action(text: str) -> str:
    return scan(RULES_ONLY, text).action


@pytest.mark.parametrize(
    "text",
    [
        # exception words that folded onto ordinary words: tåa/ta, ved (firewood)/ved (at),
        # matte (maths)/måtte (had to), legen (the doctor)/leggen (the calf), he (English)/he (har)
        "har gjemt bort tablettene i stedet for å ta dem",
        "sjekket hvor dypt det er ved brua i natt",
        "maatte ha plaster paa hele armen etter at jeg kutta meg",
        "laget nye merker paa leggen i natt",
        "æ he tenkt på å ta livet mitt heile veka",
        # a negation before 'hvem', 'om' or 'have' denies nothing
        "har selvmordstanker og vet ikke hvem jeg kan si det til",
        "looked up which bridges don't have fences",
        # goodbyes: the thing given and the person it goes to are the signal
        "har gitt bort gitaren og pcen til broren min",
        "har gitt bort alle plantene mine til naboen",
        "har sagt opp leiligheten og telefonen",
        # hoarded pills even when the pharmacy is named
        "har spart på sovetablettene fra apoteket i flere uker",
        # a denial with a hedge still carries risk
        "jeg skal ikke ta livet mitt i dag i hvert fall",
        # passive wishes and self-harm in everyday words
        "hver morgen er jeg skuffa over at jeg våknet",
        "æ kunn like gjerne vært død",
        "går med genser hele sommeren så ingen ser arrene",
        "trente i fire timer som straff fordi jeg spiste middag",
        "har gjemt barberblad i pennalet",
        "kan noen ta vare på katten min fra nå av",
        "takk for at du alltid hørte på meg",
        "ingen trenger å sjekke på meg etter fredag",
    ],
)
def test_risk_in_ordinary_words_is_caught_by_a_rule(text: str) -> None:
    assert rules_action(text) != "none", explain(RULES_ONLY, text)


@pytest.mark.parametrize(
    "text",
    [
        "ga bort sykkelen til naboen fordi den ble for liten",
        "har satt en dato for bryllupet",
        "kjøpte tau for å sikre lasset på hengeren",
        "måtte innom to apotek før jeg fikk tak i hostesaft",
        "har lagt medisinene i et låst skap unna ungene",
        "kuttet meg på et glass i oppvasken",
        "takk for at du hørte på meg i dag",
        "kan du passe katten i helga mens vi er på hytta?",
        "ble skuffa da jeg våknet av vekkerklokka",
        "planla begravelsen til farfar sammen med pappa",
        "sa opp treningssenteret, jeg bruker det aldri",
        "slettet tiktok for en måned",
        "betalte alle regningene i dag",
        "kjøpte nye blad til barberhøvelen",
        "kjenner meg roligere etter at jeg bestemte meg for å bytte studie",
        "bought some rope for the tent",
        "datteren min skal være engel i julespillet",
    ],
)
def test_the_everyday_twins_stay_quiet(text: str) -> None:
    assert scan(RULES, text).action == "none", explain(RULES, text)
