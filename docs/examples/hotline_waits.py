"""Push a day's hotline waits from the telephony system's call log into an audit, then pull
the audit's findings. Uses only ``requests`` and a personal API token.

    LOYALTY_API=http://127.0.0.1:5000 LOYALTY_TOKEN=la_… python hotline_waits.py AUDIT_ID calls.csv

``calls.csv`` is the call log of one day: call_id, started_at (ISO time), wait_seconds,
customer_no (empty for a caller who is not a customer yet), status (new/existing). Each call's
id is its ``external_id``, so running the script again for the same day stores nothing twice.
"""
from __future__ import annotations

import csv
import os
import sys

import requests

BATCH = 1000  # the most observations one request may carry


def observations(path: str) -> list[dict]:
    """The call log's rows as observations of the hotline wait."""
    with open(path, newline="", encoding="utf-8") as file:
        return [{"external_id": f"tel-{row['call_id']}", "touchpoint": "hotline", "metric": "wait",
                 "value": float(row["wait_seconds"]), "customer_status": row["status"] or None,
                 "customer_no": row["customer_no"] or None, "channel": "phone", "observed_at": row["started_at"]}
                for row in csv.DictReader(file)]


def refused(response: requests.Response) -> str:
    """A refusal's problem details in one line: what, and which item and field."""
    body = response.json()
    where = "; ".join(f"item {e['index']}, {e['field']}: {e['detail']}" for e in body.get("errors", []))
    return f"{response.status_code} {body.get('title')}: {body.get('detail') or ''} {where}".strip()


def main(audit_id: str, path: str) -> int:
    api, token = os.environ["LOYALTY_API"].rstrip("/"), os.environ["LOYALTY_TOKEN"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    calls = observations(path)
    created = existing = 0
    for start in range(0, len(calls), BATCH):
        response = session.post(f"{api}/api/v1/audits/{audit_id}/observations",
                                json={"observations": calls[start:start + BATCH]}, timeout=60)
        if response.status_code not in (200, 201):
            print("not stored:", refused(response))
            return 1
        result = response.json()
        created, existing = created + result["created"], existing + result["existing"]
        for warning in result.get("warnings", []):
            print(f"note on call {calls[start + warning['index']]['external_id']}: {warning['detail']}")
    print(f"hotline waits: {created} stored, {existing} were stored before")

    response = session.get(f"{api}/api/v1/audits/{audit_id}/findings", timeout=60)
    if response.status_code != 200:
        print("findings not read:", refused(response))
        return 0
    findings = response.json()["findings"]
    print(f"findings: {len(findings)}")
    for finding in findings:
        cost = finding["excess_year"]
        print(f"- {finding['key']} ({finding['severity']}, {finding['status']})"
              + (f": about EUR {cost:,.0f} a year, estimated" if cost is not None else ""))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
