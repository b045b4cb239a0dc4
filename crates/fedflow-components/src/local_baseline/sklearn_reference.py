"""Regenerates sklearn_reference.json: scikit-learn's converged
LogisticRegression fits on the shipped data, which the LocalBaseline tests
compare against. Run: python3 sklearn_reference.py ../../../../../shared/data
(needs scikit-learn; fedflow itself does not)."""
import json
import sys
import warnings

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

warnings.filterwarnings("ignore")
data = sys.argv[1] if len(sys.argv) > 1 else "../../../../../shared/data"


def load(name):
    a = np.genfromtxt(f"{data}/{name}", delimiter=",", skip_header=1)
    return a[:, 2:], a[:, 1]


def entry(name, file, model, x, y, w=None):
    model.fit(x, y, sample_weight=w) if w is not None else model.fit(x, y)
    est = model.estimators_ if isinstance(model, OneVsRestClassifier) else [model]
    coef = np.vstack([e.coef_ for e in est])
    icpt = np.concatenate([np.atleast_1d(e.intercept_) for e in est])
    return {
        "name": name,
        "file": file,
        "coef": coef.tolist(),
        "intercept": icpt.tolist(),
        "proba_first_rows": model.predict_proba(x[:5]).tolist(),
    }


tight = dict(tol=1e-10, max_iter=100000)
bx, by = load("breast_hetero_guest.csv")
vx, vy = load("vehicle_scale_hetero_guest.csv")
bw = np.where(by == 1, 1.0, 3.0)
out = {
    "sklearn": sklearn.__version__,
    "fits": [
        entry("l2_lbfgs", "breast_hetero_guest.csv", LogisticRegression(C=1.0, solver="lbfgs", **tight), bx, by),
        entry("l2_C0.05", "breast_hetero_guest.csv", LogisticRegression(C=0.05, **tight), bx, by),
        entry("none", "breast_hetero_guest.csv", LogisticRegression(C=np.inf, **tight), bx, by),
        entry("l1_liblinear", "breast_hetero_guest.csv", LogisticRegression(penalty="l1", C=0.1, solver="liblinear", **tight), bx, by),
        entry("l1_saga", "breast_hetero_guest.csv", LogisticRegression(penalty="l1", C=0.1, solver="saga", **tight), bx, by),
        entry("elasticnet_saga", "breast_hetero_guest.csv", LogisticRegression(penalty="elasticnet", l1_ratio=0.5, C=0.2, solver="saga", **tight), bx, by),
        entry("balanced", "breast_hetero_guest.csv", LogisticRegression(class_weight="balanced", **tight), bx, by),
        entry("sample_weight", "breast_hetero_guest.csv", LogisticRegression(**tight), bx, by, bw),
        entry("ovr", "vehicle_scale_hetero_guest.csv", OneVsRestClassifier(LogisticRegression(**tight)), vx, vy),
        entry("multinomial", "vehicle_scale_hetero_guest.csv", LogisticRegression(**tight), vx, vy),
    ],
}
json.dump(out, open("sklearn_reference.json", "w"), indent=1)
