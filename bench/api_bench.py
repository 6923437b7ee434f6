"""Time the public knowledge API once the app is warm (target: under 5 ms per call).

Run: .venv/bin/python bench/api_bench.py [--calls N]
Goes through the full Flask stack (routing, JSON, security headers) with the test client, no network."""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clinic import create_app

REQUESTS = {
    "regions": "/api/regions",
    "muscles": "/api/muscles",
    "muscle": "/api/muscles/infraspinatus",
    "checker 1 region": "/api/symptom-checker?regions=heel",
    "checker 3 regions": "/api/symptom-checker?regions=temple,side-of-neck,occiput",
    "checker 8 regions": "/api/symptom-checker?regions=low-back,buttock,hip-side,thigh-outer,thigh-back,calf,leg-outer,heel",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    client = app.test_client()
    print(f"{'request':<20} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    worst = 0.0
    for name, url in REQUESTS.items():
        for _ in range(50):  # warm up
            assert client.get(url).status_code == 200
        timings = []
        for _ in range(args.calls):
            start = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        p95 = timings[int(len(timings) * 0.95)]
        worst = max(worst, p95)
        print(f"{name:<20} {statistics.median(timings):>10.3f} {p95:>8.3f} {timings[-1]:>8.3f}")
    print(f"worst p95: {worst:.3f} ms ({'under' if worst < 5 else 'OVER'} the 5 ms target)")


if __name__ == "__main__":
    main()
