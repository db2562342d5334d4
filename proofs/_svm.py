"""The hard-margin SVM direction, exactly (now :mod:`kltools.analysis.maxmargin`)."""

from kltools.analysis.maxmargin import SVM, hard_margin_svm

__all__ = ["SVM", "hard_margin_svm"]
