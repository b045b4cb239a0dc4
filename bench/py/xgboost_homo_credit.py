"""xgboost (hist) on the pooled default_credit_homo rows, scored on the
shipped test rows: the reference for fedflow's HomoSecureBoost AUC.

    python bench/py/xgboost_homo_credit.py DATA_DIR TREES
"""
import csv
import sys

import numpy as np
import xgboost as xgb
from sklearn.metrics import roc_auc_score


def load(path):
    rows = list(csv.reader(open(path)))
    head = rows[0]
    yi = head.index("y")
    x = np.array([[float(v) for i, v in enumerate(r) if i not in (0, yi)] for r in rows[1:]])
    y = np.array([float(r[yi]) for r in rows[1:]])
    return x, y


data, trees = sys.argv[1], int(sys.argv[2])
parts = [load(f"{data}/default_credit_homo_{p}.csv") for p in ("guest", "host_1", "host_2")]
x = np.vstack([p[0] for p in parts])
y = np.concatenate([p[1] for p in parts])
xt, yt = load(f"{data}/default_credit_homo_test.csv")
# FATE's SecureBoost defaults: eta 0.3, depth 3, 32 bins, l2 0.1, gain > 1e-3,
# min_child_weight 0, and a binary model starts from a zero score.
m = xgb.XGBClassifier(n_estimators=trees, max_depth=3, learning_rate=0.3, reg_lambda=0.1,
                      gamma=1e-3, min_child_weight=0, tree_method="hist", max_bin=32,
                      base_score=0.5, n_jobs=2)
m.fit(x, y)
print(f"xgboost hist: {len(y)} pooled rows, {trees} trees, test auc {roc_auc_score(yt, m.predict_proba(xt)[:, 1]):.4f}")
