import pytest
from cryptography.fernet import Fernet

from medsupport_shared.crypto import FieldCipher
from medsupport_shared.settings import DEVELOPMENT_ENCRYPTION_KEY


def test_round_trip_hides_the_text_and_rotation_keeps_old_tokens_readable():
    old = FieldCipher(DEVELOPMENT_ENCRYPTION_KEY)
    token = old.encrypt("I have not slept for days")
    assert token is not None and "slept" not in token
    new_key = Fernet.generate_key().decode()
    rotated = FieldCipher(f"{new_key},{DEVELOPMENT_ENCRYPTION_KEY}")
    assert rotated.decrypt(token) == "I have not slept for days"
    assert FieldCipher(new_key).decrypt(rotated.encrypt("x")) == "x"
    with pytest.raises(ValueError):
        FieldCipher(new_key).decrypt(token)
    assert old.encrypt(None) is None and old.decrypt(None) is None


def test_bad_keys_are_refused():
    with pytest.raises(ValueError):
        FieldCipher("not-a-key")
