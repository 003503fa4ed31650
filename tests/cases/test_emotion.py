"""Emotion words: the shipped lists of the twenty prompt languages, matching that ignores
case, accents, width and kana, scripts without spaces, negation, and the score."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.cases.config import read_lexicons
from router.cases.emotion import Emotions, Lexicon, MatchMode, normalize, score, tokens
from router.cases.reactions import fired_by
from switchboard.common.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
LISTS = ROOT / "config" / "emotion"
PROMPT_LANGUAGES = sorted(
    path.name for path in (ROOT / "i18n" / "locales").iterdir() if path.is_dir()
)


@pytest.fixture(scope="module")
def emotions() -> Emotions:
    return Emotions(read_lexicons(LISTS, None), always=["en"])


def test_every_prompt_language_ships_a_list() -> None:
    assert len(PROMPT_LANGUAGES) == 21  # the shipped 20 and Cantonese (yue)
    lexicons = {lexicon.language: lexicon for lexicon in read_lexicons(LISTS, None)}
    assert sorted(lexicons) == PROMPT_LANGUAGES
    for language, lexicon in lexicons.items():
        assert len(lexicon.escalate) >= 10, language
        assert lexicon.negative and lexicon.positive, language
    unspaced = {code for code, lexicon in lexicons.items() if lexicon.mode == MatchMode.CHARACTERS}
    assert unspaced == {"ja", "th", "yue", "zh"}


def test_each_escalation_phrase_finds_itself_in_a_sentence(emotions: Emotions) -> None:
    """Every shipped phrase, written inside a sentence as the list has it, fires."""
    for lexicon in read_lexicons(LISTS, None):
        spaced = lexicon.mode == MatchMode.WORDS
        for phrase in lexicon.escalate:
            word = phrase.replace("*", "a" if spaced else "")
            text = f"... {word} !" if spaced else f"。{word}。"
            reading = emotions.read(text, lexicon.language)
            assert reading.escalations, (lexicon.language, phrase)


@pytest.mark.parametrize(
    "language,text,words",
    [
        ("zh", "你们的服务太差了，我非常失望！", ["太差了", "失望"]),
        ("zh", "我要投訴你們", ["我要投訴"]),  # traditional characters
        ("yue", "你哋啲服務好差，我好嬲呀！", ["好嬲"]),
        ("yue", "我好唔滿意，我要搵你哋經理", ["唔滿意", "搵你哋經理"]),  # 唔滿意, not 滿意
        ("ja", "本当にガッカリしました", ["がっかり"]),  # katakana matches the hiragana entry
        ("ja", "ﾑｶﾂｸ", ["むかつく"]),  # half-width katakana
        ("th", "ฉันไม่พอใจมาก", ["ไม่พอใจ"]),
        ("es", "Estoy muy DECEPCIONADA con el servicio", ["decepcionada"]),
        (
            "es",
            "Es inaceptable, quiero hablar con un supervisor",
            ["inaceptable", "hablar con un supervisor"],
        ),
        ("fr", "Je suis tres decue", ["decue"]),  # typed without accents
        ("de", "ICH BIN WÜTEND", ["wutend"]),
        ("tr", "ÇOK KIZGINIM", ["kizginim"]),  # dotless ı and capital İ alike
        ("ar", "والغاضب جدا", ["والغاضب"]),  # a clitic glued to the word
        ("he", "אני מאוכזב מאוד", ["מאוכזב"]),
        ("hi", "मैं बहुत नाराज हूँ", ["नाराज"]),  # without the nukta
        ("ko", "정말 실망했어요", ["실망했어요"]),
        ("vi", "toi rat that vong", ["that vong"]),  # without tone marks
        ("ru", "Я очень разочарована", ["разочарована"]),
        ("ru", "Я очень зол, это ужасно", ["зол"]),  # a man's short form
        ("pl", "Jestem wsciekly", ["wsciekly"]),
        (
            "en",
            "This is RIDICULOUS, I want to speak to a manager",
            ["ridiculous", "speak to a manager"],
        ),
    ],
)
def test_a_phrase_fires_whatever_the_case_accents_width_or_script(
    emotions: Emotions, language: str, text: str, words: list[str]
) -> None:
    assert [hit.words for hit in emotions.read(text, language).escalations] == words


@pytest.mark.parametrize(
    "language,text",
    [
        ("en", "I'm not angry, just asking about my booking"),
        ("es", "No estoy enfadado"),
        ("fr", "je ne suis pas du tout en colère"),
        ("zh", "我不生气，只是问一下"),
        ("yue", "我冇投訴，只係想問吓"),
        ("ja", "怒っていないです"),
        ("ko", "화나지 않아요"),
        ("tr", "kızgın değilim"),
        ("hi", "मैं नाराज़ नहीं हूँ"),
        ("vi", "thời gian giao hàng là bao lâu"),  # "giận" folded would be "gian": not listed alone
        ("de", "Ich bin zufrieden, danke"),
    ],
)
def test_negated_or_harmless_messages_do_not_fire(
    emotions: Emotions, language: str, text: str
) -> None:
    reading = emotions.read(text, language)
    assert not reading.escalations and reading.score >= 0, reading


# One word with an everyday other sense (a profession, a procedure's name, a word
# another variety uses otherwise, a name) does not call a senior agent on its own.
AMBIGUOUS_ALONE = [
    ("en", "I'm a lawyer travelling to Geneva, can I add a bag?"),
    ("en", "Is the Angry Birds lounge open?"),
    ("en", "Where do I file a complaint form for my lost bag? Just asking."),
    ("en", "Is this e-mail a scam? It asks for my card number"),
    ("fr", "Je voudrais un sandwich à l'avocat"),
    ("es", "Tengo harta hambre, ¿hay comida a bordo?"),
    ("es", "Soy abogado, ¿puedo cambiar mi vuelo?"),
    ("zh", "请问投诉电话是多少?"),
    ("zh", "我想了解一下投诉的处理时间"),  # how long complaints take: a probe's
    ("zh", "我是律师，可以改签吗？"),
    ("yue", "請問投訴電話係幾多號？"),
    ("yue", "我係律師，可唔可以改機票？"),
    ("de", "Ich bin Anwalt und fliege nach Genf"),
    ("de", "Ein Platz am Gang reicht mir völlig, danke"),
    ("pt", "Podem processar o pagamento de novo, por favor?"),
    ("it", "Sono avvocato, posso cambiare posto?"),
    ("nl", "Ik ben advocaat, mag ik een extra koffer meenemen?"),
    ("pl", "Mam złą rezerwację, czy można zmienić datę?"),
    ("ru", "Достали багаж из самолёта?"),
    ("ko", "표를 사기 위해 어떻게 해야 하나요?"),
    ("ko", "고소한 땅콩 간식이 있나요?"),
    ("ja", "苦情窓口の電話番号を教えてください"),
    ("tr", "Avukat olarak seyahat ediyorum, bagaj ekleyebilir miyim?"),
    ("vi", "Cho tôi số điện thoại khiếu nại"),
]


@pytest.mark.parametrize("language,text", AMBIGUOUS_ALONE)
def test_an_ambiguous_word_alone_does_not_escalate(
    emotions: Emotions, language: str, text: str
) -> None:
    reading = emotions.read(text, language)
    assert fired_by(reading, -0.6) is None, reading


@pytest.mark.parametrize(
    "language,text",
    [
        ("en", "I will call my lawyer, this is a disgrace"),
        ("en", "I want to make a complaint"),
        ("en", "ANGRY!!! my bag is lost and nobody answers"),
        ("fr", "Je vais contacter mon avocat"),
        ("fr", "C'est une honte, une vraie arnaque"),
        ("es", "Estoy harta de esperar"),
        ("es", "Mi abogado se pondrá en contacto"),
        ("zh", "我要投诉你们，太过分了"),
        ("zh", "我会请律师起诉你们"),
        ("de", "Mir reicht's, ich schalte meinen Anwalt ein"),
        ("pt", "Vou processá-los, estou farto"),
        ("it", "Sono stufa, chiamo il mio avvocato"),
        ("pl", "Jestem zły, to oszustwo"),
        ("ru", "Вы меня достали, буду жаловаться"),
        ("ko", "사기당했어요, 고소하겠습니다"),
        ("ja", "苦情を言いたい、弁護士に相談します"),
        ("tr", "Avukatımla görüşeceğim, şikayet edeceğim"),
        ("vi", "Tôi sẽ khiếu nại, thật đáng xấu hổ"),
    ],
)
def test_the_same_words_said_in_anger_still_escalate(
    emotions: Emotions, language: str, text: str
) -> None:
    assert fired_by(emotions.read(text, language), -0.6) is not None


def test_a_neutral_phrase_takes_its_words_out_of_the_reading() -> None:
    lexicon = Lexicon(
        "xx", escalate=("angry",), negative=("lost",), neutral=("angry birds", "lost and found")
    )
    emotions = Emotions([lexicon])
    assert emotions.read("the Angry Birds lounge, lost and found?", "xx").hits == ()
    reading = emotions.read("angry: the Angry Birds lounge lost my bag", "xx")
    assert [(hit.words, hit.kind) for hit in reading.hits] == [
        ("angry", "escalate"),
        ("lost", "negative"),
    ]


@pytest.mark.parametrize(
    "language,text",
    [
        ("en", "I have never been so disappointed in my life"),
        ("en", "Never this angry with an airline"),
        ("es", "Nunca he estado tan enfadado"),
        ("fr", "Je n'ai jamais été aussi déçu"),
        ("de", "Ich war noch nie so enttäuscht"),
        ("pt", "Nunca estive tão decepcionado"),
        ("it", "Non sono mai stato così arrabbiato"),
    ],
)
def test_a_negator_that_strengthens_does_not_negate(
    emotions: Emotions, language: str, text: str
) -> None:
    """ "never so disappointed" is the complaint at its strongest, not its absence."""
    reading = emotions.read(text, language)
    assert reading.escalations and reading.score < 0, reading


def test_an_amplifier_leaves_plain_negation_alone(emotions: Emotions) -> None:
    assert not emotions.read("I was never disappointed", "en").escalations
    assert not emotions.read("not so angry, thanks", "en").escalations


def test_overlapping_matches_keep_the_longest(emotions: Emotions) -> None:
    reading = emotions.read("我很不满意", "zh")
    assert [(hit.words, hit.kind) for hit in reading.hits] == [("不满", "escalate")]
    positive = emotions.read("พอใจมากค่ะ", "th")
    assert [(hit.words, hit.kind) for hit in positive.hits] == [("พอใจ", "positive")]
    assert positive.score > 0


def test_the_score_sums_the_words_and_an_exclamation_adds_weight(emotions: Emotions) -> None:
    calm = emotions.read("the flight was delayed and my bag is lost", "en")
    loud = emotions.read("the flight was delayed and my bag is lost!!!", "en")
    assert -1 < loud.score < calm.score < 0
    assert emotions.read("thanks, great help", "en").score > 0
    assert emotions.read("that was not good", "en").score < 0  # a negated positive lowers it
    assert score([]) == 0
    fired = fired_by(emotions.read("terrible, awful, broken and lost!!!", "en"), -0.6)
    assert fired is not None and fired[0] == "emotion.sentiment"
    assert fired_by(calm, -0.6) is None


def test_the_chat_language_and_the_always_read_ones(emotions: Emotions) -> None:
    assert emotions.read("I am so angry", "es-MX").escalations  # English read everywhere
    only_own = Emotions(read_lexicons(LISTS, ["es"]))
    assert not only_own.read("I am so angry", "es").escalations
    assert only_own.read("Estoy enojada", "es-MX").escalations  # the primary subtag


def test_normalize_and_tokens() -> None:
    assert normalize("Ｃafé ＫＡＴＡカナ İstanbul أحمد") == "cafe kataかな istanbul احمد"
    assert [word for word, _, _ in tokens("l'avion, c'est-à-dire")] == [
        "l",
        "avion",
        "c",
        "est",
        "à",
        "dire",
    ]


def test_a_broken_list_names_its_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "es.toml").write_text('language = "es"\nescalate = "enfadado"\nmatch = "letters"\n')
    (tmp_path / "xx.toml").write_text("not toml [")
    with pytest.raises(ConfigError) as failure:
        read_lexicons(tmp_path, None)
    lines = str(failure.value).splitlines()
    assert any("es.toml: escalate: expected a list of strings" in line for line in lines)
    assert any("es.toml: match: expected one of words, characters" in line for line in lines)
    assert any("xx.toml: not valid TOML" in line for line in lines)
    lexicon = Lexicon("xx", escalate=("  ",))
    assert not Emotions([lexicon]).read("anything", "xx").hits
