"""The formalism map never overstates: statuses, sources, and witnesses re-checked here."""

import numpy as np
import pytest

import rewardviz as rv
from rewardviz.expressivity import features
from rewardviz.expressivity.formalisms import ABSTRACT, KINDS, REVIEWS, STATUSES, WITNESSES


@pytest.fixture(scope="module")
def fmap():
    return rv.expressivity.formalism_map()


def test_seventeen_formalisms_with_unique_keys(fmap):
    keys = [f.key for f in fmap.formalisms]
    assert len(keys) == 17 == len(set(keys))
    for formalism in fmap.formalisms:
        assert formalism.name and formalism.objective and formalism.source


def test_every_relation_has_a_status_and_a_source_or_witness(fmap):
    keys = {f.key for f in fmap.formalisms}
    for relation in fmap.relations:
        assert relation.left in keys and relation.right in keys and relation.left != relation.right
        assert relation.kind in KINDS and relation.status in STATUSES
        assert relation.justification
        if relation.status == "cited":
            assert relation.source, relation
        if relation.status == "witnessed":
            assert relation.witnesses, relation
        else:
            assert not relation.witnesses, "only witnessed relations carry witnesses"
    assert {r.status for r in fmap.relations} == set(STATUSES)


def test_the_unverified_seventeenth_formalism_has_no_relation(fmap):
    assert fmap.relations_of("FPR") == ()
    assert "unverified" in fmap.formalism("FPR").note


def witnessed(fmap):
    return [(r, w) for r in fmap.relations if r.status == "witnessed" for w in r.witnesses]


def test_every_witness_of_the_map_is_in_the_checked_list(fmap):
    used = {w.name for _, w in witnessed(fmap)}
    assert used == {w.name for w in WITNESSES.values()}


@pytest.mark.parametrize("key", sorted(WITNESSES))
def test_every_witness_is_rechecked(key):
    witness = WITNESSES[key]
    result = witness.check()
    assert not result.realizable, witness.name
    assert result.certificate.residual < 1e-10
    # Independently of the certificate: the realisability LP's claim rests on features;
    # re-derive the identity Σ c_i φ_i = 0 from the witness's own policies.
    mdp, policies, names, _ = witness.build()
    stacked = features.stochastic_policies(mdp, policies)
    if witness.criterion == "discounted":
        phi = features.occupancy_features(mdp, stacked)
    else:
        phi = features.limit_average_features(mdp, stacked)
    index_of = {name: i for i, name in enumerate(names)}
    combined = sum(c * phi[index_of[label]] for c, label in result.certificate.combination)
    np.testing.assert_allclose(combined, 0, atol=1e-9)


def test_incomparable_relations_between_the_five_are_cited(fmap):
    five = {"LAR", "LTL", "RM", "RRL", "ONMR"}
    cited = {
        frozenset((r.left, r.right))
        for r in fmap.relations
        if r.kind == "incomparable" and r.status == "cited"
    }
    assert len({pair for pair in cited if pair <= five}) == 10


def test_unknown_key_lists_the_known_ones(fmap):
    with pytest.raises(KeyError, match="known: MR, LAR"):
        fmap.formalism("XYZ")


def test_relations_table(fmap):
    frame = fmap.to_frame()
    assert len(frame) == len(fmap.relations)
    assert set(frame.columns) >= {"left", "kind", "right", "status", "source", "witnesses"}


def test_only_the_paper_itself_makes_a_relation_cited(fmap):
    """Reviews describe the paper but are not the paper: what rests on them is reconstructed."""
    for relation in fmap.relations:
        if relation.status == "cited":
            assert relation.source == ABSTRACT, relation
        if relation.source == REVIEWS:
            assert relation.status == "reconstructed", relation
    assert {(r.left, r.right) for r in fmap.relations if r.source == REVIEWS} >= {
        ("OMO", "FOMR"),
        ("FOMR", "FTR"),
    }


def test_justifications_state_their_limits(fmap):
    """FOMR ⪰ RRL needs occupancy-weighted regularisers; RM ⪰ MR depends on the definition."""
    (rrl,) = [r for r in fmap.relations if (r.left, r.right) == ("FOMR", "RRL")]
    assert "occupancy-weighted" in rrl.justification
    (rm,) = [r for r in fmap.relations if (r.left, r.right) == ("RM", "MR")]
    assert "R(s, a, s')" in rm.justification and "state entered" in rm.justification
    assert "label" in fmap.formalism("RM").note


def test_the_module_is_not_shadowed_and_the_old_call_warns(fmap):
    from rewardviz.expressivity import formalisms

    assert rv.expressivity.formalisms is formalisms and hasattr(formalisms, "WITNESSES")
    with pytest.warns(DeprecationWarning, match=r"formalism_map\(\)") as caught:
        old = rv.expressivity.formalisms()
    assert caught[0].filename == __file__
    assert old == fmap
    with pytest.warns(DeprecationWarning, match="formalism_map"):
        assert formalisms.formalisms() == fmap
