"""A person's own stated age under 18 is read in every language (bot/minor.py);
someone else's age, hours, money and adults' ages are not."""
import pytest

from bot.minor import says_minor

MINOR = {
    "en": "im 14 and my mom makes me beg", "fi": "olen 16 ja pomo ei maksa", "sv": "jag är 15 och måste jobba",
    "et": "ma olen 16 ja pean töötama", "ru": "мне 15 лет, меня заставляют", "uk": "мені 17 років і мене змушують",
    "bg": "на 16 съм и ме карат да работя", "pl": "mam 14 lat i muszę pracować", "ro": "am 17 ani si ma obliga",
    "tr": "16 yaşındayım ve çalıştırıyorlar", "es": "tengo 15 años y me obligan", "fr": "j'ai 16 ans et on me force",
    "tl": "16 taong gulang ako at pinapatrabaho ako", "vi": "em 15 tuổi bị bắt làm việc", "zh": "我16岁，被逼着干活",
    "th": "หนูอายุ 15 ปี ถูกบังคับให้ทำงาน", "ar": "عمري ١٦ سنة وصاحب العمل يأخذ راتبي", "fa": "۱۵ سالمه و مجبورم میکنن",
    "ne": "म १६ वर्षको हुँ, मलाई काम गर्न बाध्य", "so": "waxaan ahay 15 jir waxaa la i shaqeysiiyaa",
}
NOT_MINOR = [
    "my sister is 15 years old", "I worked 16 hours a day", "olen 25 ja pomo ei maksa", "I am 18",
    "I earn 15 euros an hour", "мне 30 лет", "tengo 15 compañeros", "他16岁", "j'ai 16 heures de travail",
]


@pytest.mark.parametrize("language", sorted(MINOR))
def test_a_minor_saying_their_age_is_read(language):
    assert says_minor(MINOR[language])


@pytest.mark.parametrize("text", ["ja e 16 å bor hos min kusin", "jag e bara 15 o han tar pengarna", "ja ä 17, chefen har mitt pass"])
def test_a_minor_writing_spoken_swedish_is_read(text):
    assert says_minor(text)


@pytest.mark.parametrize("text", NOT_MINOR + ["ja e 25 å jobbar 16 timmar", "jag e 16 timmar på jobbet"])
def test_other_numbers_are_not_a_minor(text):
    assert not says_minor(text)
