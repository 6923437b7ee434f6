"""The public JSON API: shapes are a contract (DESIGN section 4)."""

from clinic.kb.schema import REGION_IDS


def test_regions(client):
    response = client.get("/api/regions")
    assert response.status_code == 200
    regions = response.get_json()
    assert [region["id"] for region in regions] == list(REGION_IDS)
    for region in regions:
        assert set(region) == {"id", "name", "views"}
        assert region["name"] and set(region["views"]) <= {"front", "back"} and region["views"]


def test_muscles_list(client):
    muscles = client.get("/api/muscles").get_json()
    assert len(muscles) >= 40
    assert all(set(muscle) == {"slug", "name", "group"} for muscle in muscles)
    assert {m["group"] for m in muscles} == {
        "head-neck",
        "shoulder-arm",
        "forearm-hand",
        "trunk",
        "hip-thigh",
        "leg-foot",
    }
    assert len({m["slug"] for m in muscles}) == len(muscles)


def test_muscle_detail(client):
    muscle = client.get("/api/muscles/upper-trapezius").get_json()
    assert set(muscle) == {
        "slug",
        "name",
        "group",
        "trigger_points",
        "refers_to",
        "conditions",
        "satellites",
        "keys",
        "cautions",
    }
    assert muscle["slug"] == "upper-trapezius" and muscle["group"] == "head-neck"
    assert all(set(point) == {"id", "location"} for point in muscle["trigger_points"])
    assert muscle["trigger_points"][0]["id"] == "upper-trapezius/1"
    assert set(muscle["refers_to"]) == {"primary", "secondary"}
    assert "temple" in muscle["refers_to"]["primary"]
    assert "tension headache" in muscle["conditions"]
    # DESIGN 4a: its satellites, the muscles that list it as one (its keys), and its cautions as text
    assert "temporalis" in muscle["satellites"]
    assert muscle["keys"] == ["lower-trapezius"]
    assert muscle["cautions"] and all(isinstance(text, str) and text for text in muscle["cautions"])


def test_muscle_keys_are_the_muscles_naming_it_a_satellite(client):
    temporalis = client.get("/api/muscles/temporalis").get_json()
    assert set(temporalis["keys"]) == {"sternocleidomastoid", "upper-trapezius"}
    assert temporalis["satellites"] == []
    for key in temporalis["keys"]:
        assert "temporalis" in client.get(f"/api/muscles/{key}").get_json()["satellites"]


def test_symptom_checker_adds_red_flags_of_the_chosen_regions(client):
    result = client.get("/api/symptom-checker?regions=calf,low-back").get_json()
    assert {"region", "text"} == set(result["red_flags"][0])
    by_region = {}
    for flag in result["red_flags"]:
        by_region.setdefault(flag["region"], []).append(flag["text"])
    assert list(by_region) == ["calf", "low-back"]
    assert any("swollen" in text and "clot" in text for text in by_region["calf"])
    assert any("saddle" in text.lower() for text in by_region["low-back"])
    assert all(set(c) == {"slug", "name", "score", "primary", "secondary"} for c in result["candidates"])


def test_unknown_muscle_is_json_404(client):
    response = client.get("/api/muscles/no-such-muscle")
    assert response.status_code == 404 and response.is_json
    assert "no-such-muscle" in response.get_json()["message"]


def test_symptom_checker_shape_and_order(client):
    result = client.get("/api/symptom-checker?regions=temple,side-of-neck").get_json()
    assert result["regions"] == ["temple", "side-of-neck"]
    candidates = result["candidates"]
    assert candidates, "upper trapezius at least refers to both"
    for candidate in candidates:
        assert set(candidate) == {"slug", "name", "score", "primary", "secondary"}
        assert set(candidate["primary"] + candidate["secondary"]) <= {"temple", "side-of-neck"}
    scores = [candidate["score"] for candidate in candidates]
    assert scores == sorted(scores, reverse=True)
    assert candidates[0]["slug"] == "upper-trapezius"


def test_symptom_checker_unknown_region_is_400_naming_it(client):
    response = client.get("/api/symptom-checker?regions=temple,elbow-front,nowhere")
    assert response.status_code == 400 and response.is_json
    body = response.get_json()
    assert "elbow-front" in body["message"] and "nowhere" in body["message"]
    assert body["unknown_regions"] == ["elbow-front", "nowhere"]


def test_symptom_checker_with_no_regions_is_empty(client):
    assert client.get("/api/symptom-checker").get_json() == {"regions": [], "candidates": [], "red_flags": []}


def test_symptom_checker_ignores_repeats_and_spaces(client):
    result = client.get("/api/symptom-checker?regions=heel,%20heel").get_json()
    assert result["regions"] == ["heel"]


def test_api_is_public_and_sends_security_headers(client):
    response = client.get("/api/muscles")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Cache-Control" not in response.headers or "no-store" not in response.headers["Cache-Control"]
