import jwt
import pytest

from medsupport_cli.tokens import RefusedToken, mint_development_token

SECRET = "s" * 40


def test_a_development_token_carries_the_roles_and_a_bounded_lifetime():
    token = mint_development_token(
        sub="c1", roles=["counsellor"], secret=SECRET, app_env="development", hours=2, cohort="", name="Ada"
    )
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["sub"] == "c1" and claims["roles"] == ["counsellor"] and claims["name"] == "Ada"
    assert "cohort" not in claims
    assert claims["exp"] - claims["iat"] == 2 * 3600


@pytest.mark.parametrize(
    ("roles", "app_env", "words"),
    [
        (["counsellor"], "production", "production"),
        (["surgeon"], "development", "unknown roles"),
        ([], "development", "at least one role"),
    ],
)
def test_tokens_are_refused_in_production_and_for_unknown_roles(roles, app_env, words):
    with pytest.raises(RefusedToken, match=words):
        mint_development_token(sub="x", roles=roles, secret=SECRET, app_env=app_env)
