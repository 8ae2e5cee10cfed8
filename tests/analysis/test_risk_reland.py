"""The risk model on the RELand cells (Antioquia, Colombia): better than the study on unseen municipalities."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from landrelease.analysis.risk.validation import out_of_group_logits, place_covariates
from landrelease.formats.cells import read_cells
from tests.conftest import shared_file

STUDY_ROC_AUC = 0.571  # the study's LightGBM, leave-municipality-out


@pytest.mark.slow
def test_leave_municipality_out_beats_the_study() -> None:
    cells = read_cells(shared_file("reland", "train_cells.csv"), "mines_outcome", "Municipio")
    assert cells.groups is not None
    assert len(cells) == 7019 and len(set(cells.groups.tolist())) == 19
    assert int((cells.label == -1).sum()) == 2530  # unknown cells kept as unknown
    covariates = list(cells.numeric) + list(cells.categorical)
    covariates = [c for c in covariates if c not in place_covariates(cells, covariates, cells.groups)]
    logits = out_of_group_logits(cells, covariates, cells.groups, penalty=0.01, segments=2)
    known = cells.labelled
    assert not np.isnan(logits[known]).any()
    assert roc_auc_score(cells.label[known] == 1, logits[known]) > STUDY_ROC_AUC + 0.05
