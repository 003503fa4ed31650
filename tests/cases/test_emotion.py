"""Emotion words: the shipped lists of the twenty prompt languages, matching that ignores
case, accents, width and kana, scripts without spaces, negation, and the score."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from router.cases.config import read_lexicons
from router.cases.emotion import Emotions, Lexicon, MatchMode, normalize, score, tokens
from router.cases.reactions import burst, fired_by, unread_before
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


@pytest.mark.parametrize(
    "language,text,phrase",
    [
        ("ar", "أريد التحدث مع المدير", "أريد التحدث مع مدير"),  # "with THE manager"
        ("ar", "أريد التحدث مع الشخص المسؤول", "التحدث مع شخص"),
        ("he", "אני רוצה לדבר עם המנהל", "לדבר עם מנהל"),
    ],
)
def test_a_clitic_glued_to_a_later_word_of_a_phrase(
    emotions: Emotions, language: str, text: str, phrase: str
) -> None:
    assert [hit.phrase for hit in emotions.read(text, language).escalations] == [phrase]


@pytest.mark.parametrize(
    "language,text,words",
    [
        ("zh", "转 人 工", ["转 人 工"]),
        ("zh", "转\u3000人\u3000工！", ["转 人 工"]),  # full-width spaces
        ("zh", "我要  投诉", ["我要  投诉"]),
        ("ja", "が っ か り しました", ["が っ か り"]),
    ],
)
def test_spaces_between_han_or_kana_are_skipped(
    emotions: Emotions, language: str, text: str, words: list[str]
) -> None:
    assert [hit.words for hit in emotions.read(text, language).escalations] == words


def test_a_spaced_out_negation_still_negates(emotions: Emotions) -> None:
    assert not emotions.read("我 不 生 气", "zh").escalations
    assert not emotions.read("怒って な い です", "ja").escalations


@pytest.mark.parametrize(
    "text,phrase",
    [
        ("ich bin wuetend", "wütend"),
        ("ICH BIN VERAERGERT", "verärgert"),
        ("So eine Unverschaemtheit!", "unverschämtheit"),
        ("Unverschämtheit!", "unverschämtheit"),
    ],
)
def test_german_typed_without_umlauts(emotions: Emotions, text: str, phrase: str) -> None:
    assert [hit.phrase for hit in emotions.read(text, "de").escalations] == [phrase]


def test_german_ascii_spelling_keeps_its_negation(emotions: Emotions) -> None:
    assert not emotions.read("Ich bin nicht wuetend, danke", "de").escalations


@pytest.mark.parametrize("language", ["en", "zh", "ar", "sv"])
def test_anger_emoji_lower_the_score_and_repeated_ones_trigger(
    emotions: Emotions, language: str
) -> None:
    """One angry face is a negative word, in any language (Swedish has no list); three
    are three negative words: a trigger by the score, as three such words are."""
    one = emotions.read("😡", language)
    assert one.score < 0 and fired_by(one, -0.6) is None
    assert fired_by(emotions.read("🤬", language), -0.6) is None
    fired = fired_by(emotions.read("😡😡😡", language), -0.6)
    assert fired is not None and fired[0] == "emotion.sentiment"
    assert [hit.words for hit in fired[1]] == ["😡", "😡", "😡"]
    assert fired_by(emotions.read("where is my bag 💢👿🤬", language), -0.6) is not None


def test_mild_emoji_say_nothing(emotions: Emotions) -> None:
    for text in ("🙂", "😤", "😒", "🙁", "☹️", "😅 ok"):
        assert emotions.read(text, "en").hits == (), text


@pytest.mark.parametrize(
    "language,text",
    [
        ("en", "I want a manager"),
        ("en", "i want to speak to the manager"),
        ("en", "Let me speak to your manager"),
        ("en", "Can I talk to an operator please"),
        ("en", "wtf"),
        ("en", "This is a joke."),
        ("zh", "我要找你们经理"),
        ("zh", "我要找你们的经理"),
        ("zh", "我要客訴"),
        ("zh", "帮我转接人工"),
        ("zh", "太离谱了"),
        ("zh", "烦死了"),
        ("zh", "我要报警"),
        ("ja", "上司を呼んでください"),
        ("ja", "オペレーターと話したい"),
        ("ja", "ふざけるな"),
        ("es", "quiero hablar con el gerente"),
        ("es", "Quiero hablar con un supervisor ya"),
        ("es", "qué asco"),
        ("pt", "quero falar com um atendente"),
        ("pt", "quero falar com o gerente"),
        ("ru", "позовите менеджера"),
        ("ru", "это возмутительно"),
        ("de", "Das ist eine Unverschämtheit"),
        ("ko", "최악이에요"),
    ],
)
def test_asking_for_a_person_and_strong_upset_words_escalate(
    emotions: Emotions, language: str, text: str
) -> None:
    assert emotions.read(text, language).escalations, (language, text)


@pytest.mark.parametrize(
    "language,text",
    [
        ("en", "kill time at the airport"),
        ("en", "Is the Angry Birds lounge open?"),
        ("en", "The manager at the gate said my seat is fine"),
        ("en", "I'm going to Madrid, can you tell me a joke?"),
        ("en", "It's not a joke, my bag is really in Madrid"),
        ("zh", "我不生气"),
        ("zh", "请转告你们经理，谢谢"),
        ("zh", "垃圾桶在哪里？"),
        ("zh", "报警器可以带上飞机吗？"),
        ("zh", "客诉电话是多少？"),
        ("zh", "人工智能很有意思"),
        ("ja", "オペレーターと話したくないです"),
        ("ko", "최악의 경우에는 환불되나요?"),
        ("ko", "최악은 아니에요"),
        ("es", "no quiero hablar con el gerente, gracias"),
        ("pt", "não quero falar com um atendente"),
        ("ru", "это не возмутительно"),
        ("de", "Das ist keine Unverschaemtheit"),
    ],
)
def test_the_new_words_raise_no_false_alarm(emotions: Emotions, language: str, text: str) -> None:
    reading = emotions.read(text, language)
    assert fired_by(reading, -0.6) is None, reading


def test_a_phrase_split_across_two_messages(emotions: Emotions) -> None:
    """`before` adds only what joins it to the message: a phrase begun there, a negator
    there; its own words are its own message's reading."""
    joined = emotions.read("投诉", "zh", before="我要")
    assert [hit.words for hit in joined.escalations] == ["我要 投诉"]
    assert [hit.words for hit in emotions.read("harto", "es", "estoy").escalations] == [
        "estoy harto"
    ]
    assert not emotions.read("angry", "en", before="I'm not").escalations
    calm = emotions.read("thanks for asking", "en", before="I am furious")
    assert not calm.escalations and calm.score > 0
    assert not emotions.read("投诉", "zh").escalations  # alone: the procedure's name


def test_a_message_is_read_after_the_one_before_unless_that_triggered(
    emotions: Emotions,
) -> None:
    assert unread_before(["我要", "投诉"], emotions, "zh", -0.6) == "我要"
    assert unread_before(["投诉"], emotions, "zh", -0.6) == ""
    # "我要投诉" triggered: "你们" is not read after it ("投诉你们" would count it again).
    assert unread_before(["我要投诉", "你们"], emotions, "zh", -0.6) == ""
    # "投诉" triggered with "我要": the same.
    assert unread_before(["我要", "投诉", "你们"], emotions, "zh", -0.6) == ""
    assert unread_before(["你好", "我要", "投诉"], emotions, "zh", -0.6) == "我要"


def test_a_burst_is_the_customers_messages_each_soon_after_the_one_before() -> None:
    def said(sender: str, text: str, at_s: float) -> dict[str, Any]:
        return {"sender": sender, "text": text, "at_ms": int(at_s * 1000)}

    messages = [
        said("customer", "hello", 0),
        said("customer", "I am", 100),  # more than a minute after: a new burst
        said("customer", "so", 130),
        said("customer", "angry", 150),
    ]
    assert burst(messages, "angry") == ["I am", "so", "angry"]
    assert burst(messages, "so") == ["I am", "so"]
    answered = [*messages[:3], said("ana", "How can I help?", 140), messages[3]]
    assert burst(answered, "angry") == ["angry"]
    assert burst(messages, "not there") == []
