"""Check-in answers sealed at rest and opened for reading, leniently for documents stored before (pure)."""

import pytest
from cryptography.fernet import Fernet

from medsupport_shared.crypto import FieldCipher
from wellbeing.checkins import open_answers, seal_answers

CIPHER = FieldCipher(Fernet.generate_key().decode())


def test_sealed_answers_show_no_value_and_open_to_the_same_list():
    sealed = seal_answers([0, 1, 2, 3, 0, 1, 2, 3, 3], CIPHER)
    assert isinstance(sealed, str) and not sealed.startswith("[")
    assert sealed != seal_answers([0, 1, 2, 3, 0, 1, 2, 3, 3], CIPHER)  # random IV: equal answers look different
    assert open_answers(sealed, CIPHER) == [0, 1, 2, 3, 0, 1, 2, 3, 3]


@pytest.mark.parametrize(
    ("stored", "read"),
    [([1, 2, 3], [1, 2, 3]), (None, None), ([True, 2], None), ({"a": 1}, None), (5, None)],
)
def test_answers_stored_in_clear_by_older_versions_still_read_and_junk_reads_as_none(stored, read):
    assert open_answers(stored, CIPHER) == read


def test_answers_sealed_under_another_key_are_refused_not_misread():
    with pytest.raises(ValueError):
        open_answers(seal_answers([1], FieldCipher(Fernet.generate_key().decode())), CIPHER)
