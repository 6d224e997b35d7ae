"""``prodml.config.yamlfile``: YAML mappings parsed with the line of every key, and errors that
name the file and line (bad syntax, duplicate keys, a top level that is not a mapping)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodml.config.yamlfile import YamlDoc, load_yaml, parse_yaml
from prodml.errors import ConfigError

TEXT = """\
name: acme
storage:
  root: data
  options:
    region: eu-west-1
environments:
  dev: {}
  prod:
    tags:
      - a
      - {team: ml,
         cost: 3}
"""


def parse_error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_yaml(text, display="conf/prodml.yaml")
    return info.value


def test_data_and_the_line_of_every_key_and_item() -> None:
    doc = parse_yaml(TEXT, display="prodml.yaml")
    assert doc.file == "prodml.yaml"
    assert doc.data["storage"] == {"root": "data", "options": {"region": "eu-west-1"}}
    assert doc.data["environments"]["prod"]["tags"] == ["a", {"team": "ml", "cost": 3}]
    assert doc.lines == {
        ("name",): 1,
        ("storage",): 2,
        ("storage", "root"): 3,
        ("storage", "options"): 4,
        ("storage", "options", "region"): 5,
        ("environments",): 6,
        ("environments", "dev"): 7,
        ("environments", "prod"): 8,
        ("environments", "prod", "tags"): 9,
        ("environments", "prod", "tags", 0): 10,
        ("environments", "prod", "tags", 1): 11,
        ("environments", "prod", "tags", 1, "team"): 11,
        ("environments", "prod", "tags", 1, "cost"): 12,
    }


def test_line_of_falls_back_to_the_closest_ancestor() -> None:
    doc = parse_yaml(TEXT, display="prodml.yaml")
    assert doc.line_of(("storage", "options", "region")) == 5
    assert doc.line_of(("storage", "options", "missing", "deeper")) == 4
    assert doc.line_of(("environments", "prod", "tags", 7)) == 9
    assert doc.line_of(("nowhere",)) is None
    assert doc.line_of(()) is None


def test_line_of_on_a_doc_built_by_hand() -> None:
    doc = YamlDoc(data={}, file="x.yaml")
    assert doc.lines == {} and doc.line_of(("a",)) is None


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "~\n"])
def test_empty_document_is_an_empty_mapping(text: str) -> None:
    doc = parse_yaml(text, display="p.yaml")
    assert doc.data == {} and doc.lines == {}


def test_non_string_keys_are_indexed_as_text() -> None:
    doc = parse_yaml("7: seven\ntrue: yes\n", display="p.yaml")
    assert doc.data == {7: "seven", True: True}
    assert doc.lines == {("7",): 1, ("true",): 2}


def test_anchors_and_aliases_resolve() -> None:
    doc = parse_yaml("base: &b {x: 1}\ncopy: *b\n", display="p.yaml")
    assert doc.data["copy"] == {"x": 1}
    assert doc.line_of(("copy",)) == 2
    assert doc.line_of(("copy", "x")) == 1  # where the aliased value is written


def test_duplicate_key_names_the_key_path_and_its_second_line() -> None:
    error = parse_error("storage:\n  root: a\n  options: {}\n  root: b\n")
    assert (error.file, error.key, error.line) == ("conf/prodml.yaml", "storage.root", 4)
    assert str(error) == "conf/prodml.yaml:4: storage.root: duplicate key (remove one of the two)"


def test_duplicate_key_inside_a_list_item() -> None:
    error = parse_error("items:\n  - {a: 1, a: 2}\n")
    assert error.key == "items.0.a" and error.line == 2


def test_same_key_in_different_sections_is_fine() -> None:
    doc = parse_yaml("a: {root: 1}\nb: {root: 2}\n", display="p.yaml")
    assert doc.data == {"a": {"root": 1}, "b": {"root": 2}}


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("a: [1, 2\n", 2, "expected ',' or ']'"),
        ("a:\n  b: 1\n c: 2\n", 3, "expected <block end>"),
        ("name: ok\n\tbad: 1\n", 2, "found character '\\t' that cannot start any token"),
        ("x: &a 1\ny: *b\n", 2, "found undefined alias 'b'"),
        ("a: 1\n---\nb: 2\n", 2, "found another document"),
    ],
)
def test_invalid_yaml_names_file_line_and_problem(text: str, line: int, problem: str) -> None:
    error = parse_error(text)
    assert error.file == "conf/prodml.yaml" and error.line == line
    assert str(error).startswith(f"conf/prodml.yaml:{line}: invalid YAML: ")
    assert problem in error.message
    assert error.hint == "check indentation and quoting"


def test_python_tags_are_refused() -> None:
    error = parse_error("a: !!python/object/apply:os.system ['echo hi']\n")
    assert error.line == 1
    assert "could not determine a constructor" in error.message


@pytest.mark.parametrize(
    ("text", "kind"), [("- a\n- b\n", "list"), ("42\n", "int"), ("hi\n", "str")]
)
def test_top_level_must_be_a_mapping(text: str, kind: str) -> None:
    error = parse_error(text)
    assert error.line == 1
    assert error.message == (
        f"conf/prodml.yaml:1: the top level must be a mapping of keys, not a {kind}"
    )


def test_load_yaml_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "product.yaml"
    path.write_text("name: churn\nowners:\n  - {name: ana}\n", encoding="utf-8")
    doc = load_yaml(path)
    assert doc.file == str(path)
    assert doc.data == {"name": "churn", "owners": [{"name": "ana"}]}
    assert doc.line_of(("owners", 0, "name")) == 3


def test_load_yaml_uses_the_display_name_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "prodml.yaml"
    path.write_text("a: 1\na: 2\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_yaml(path, display="prodml.yaml")
    assert str(info.value).startswith("prodml.yaml:2: a: duplicate key")


def test_load_yaml_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml(tmp_path / "nope.yaml", display="products/x/product.yaml")
    assert str(info.value) == "products/x/product.yaml: file not found"
    assert info.value.file == "products/x/product.yaml" and info.value.line is None


def test_load_yaml_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "prodml.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_yaml(path, display="prodml.yaml")
    assert str(info.value).startswith("prodml.yaml: cannot read file: ")
    assert "utf-8" in str(info.value)


def test_load_yaml_on_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml(tmp_path, display="prodml.yaml")
    assert str(info.value).startswith("prodml.yaml: cannot read file: ")
