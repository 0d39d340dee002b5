"""FAKE credentials for secret-scanning tests, built at run time by concatenation so that no
committed file holds a string a scanner would flag. None of them was ever a real credential."""

from __future__ import annotations

import base64
import random

AWS_KEY = "AKIA" + "ZQ3FAKE7" + "TESTONLY"  # 20 characters: the shape of an AWS access key id
HIGH_ENTROPY = base64.b64encode(random.Random(20261122).randbytes(30)).decode()  # entropy about 4.8
PRIVATE_KEY = "-----BEGIN " + "RSA PRIVATE KEY-----"
PLANTED = (AWS_KEY, HIGH_ENTROPY)
