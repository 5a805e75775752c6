"""Commands of external participation: guest links, one-time codes, the agreement.

- ``links``: mint, open (exchange for a session), revoke, re-send, renew;
- ``codes``: challenges (send, verify, redeem), lock-out and unlock;
- ``decisions``: a guest's decision through workflow's one pipeline;
- ``agreement``: the simple-e-signature agreement and its acceptance.
"""
