"""Fill in `description:` (and `name:` where dbt's generated name is longer than 63
characters) for every generic dbt data test that has none, from its rule (docs/dbt_tests.md).

    .venv/bin/python scripts/dbt_test_descriptions.py          # list what is missing
    .venv/bin/python scripts/dbt_test_descriptions.py --write  # and write the drafts

Text insertion into the YAML files (their formatting and comments stay as they are): after a
merge conflict in a model's YAML, take either side and run this again. Tests it cannot
describe from a template (`expression_is_true`, singular tests) or name (long generated names
it has no short form for) are listed: write those by hand. Review every draft it writes: the
template says the rule, a hand-written text may say it better. Needs `dbt parse` (run here).
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import yaml

MAX_NAME = 63
PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"


def _manifest_tests() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RSOKO_WAREHOUSE": f"{tmp}/parse.duckdb",
               "DBT_TARGET_PATH": f"{tmp}/target", "DBT_LOG_PATH": f"{tmp}/logs"}
        dbt = str(Path(sys.executable).parent / "dbt")
        subprocess.run([dbt, "parse", "--profiles-dir", ".", "-q"], cwd=PROJECT, env=env,
                       check=True)
        manifest = json.loads(Path(tmp, "target", "manifest.json").read_text(encoding="utf-8"))
    return [n for n in manifest["nodes"].values()
            if n["resource_type"] == "test" and n.get("test_metadata")]


TESTS: list[dict] = []
WRITE = "--write" in sys.argv


def cols(c):
    return ", ".join(c)


def where_text(where):
    if not where:
        return "", ""
    import re
    m = re.fullmatch(r"(\w+) is not null", where.strip())
    if m:
        return f" (среди строк, где {m[1]} заполнен)", f" (among rows where {m[1]} is set)"
    if where.strip() == "is_result_of_record":
        return " (среди результатов учёта)", " (among results of record)"
    return f" (среди строк, где {where})", f" (among rows where {where})"


def rule(test, model, column, args, where):
    w_ru, w_en = where_text(where)
    if test == "not_null":
        return f"{column} заполнен в каждой строке{w_ru}", f"{column} is set in every row{w_en}"
    if test == "unique":
        return (f"Каждое значение {column} встречается один раз{w_ru}",
                f"Each {column} value occurs once{w_en}")
    if test == "unique_combination_of_columns":
        c = args["combination_of_columns"]
        word_ru = "пара" if len(c) == 2 else "комбинация"
        word_en = "pair" if len(c) == 2 else "combination"
        return (f"Каждая {word_ru} ({cols(c)}) встречается один раз{w_ru}",
                f"Each ({cols(c)}) {word_en} occurs once{w_en}")
    if test == "accepted_values":
        v = ", ".join(str(x) for x in args["values"])
        return (f"{column} — одно из значений: {v}{w_ru}",
                f"{column} is one of: {v}{w_en}")
    if test == "accepted_range":
        lo, hi = args.get("min_value"), args.get("max_value")
        if lo is not None and hi is not None:
            r_ru, r_en = f"от {lo} до {hi}", f"between {lo} and {hi}"
        elif lo is not None:
            r_ru, r_en = f"не меньше {lo}", f"at least {lo}"
        else:
            r_ru, r_en = f"не больше {hi}", f"at most {hi}"
        return (f"{column} (если заполнен) {r_ru}{w_ru}", f"{column} (when set) is {r_en}{w_en}")
    if test == "relationships":
        to = args["to"].replace("ref('", "").replace("')", "")
        return (f"Каждое значение {column} есть в {to}.{args['field']}{w_ru}",
                f"Every {column} value exists in {to}.{args['field']}{w_en}")
    if test == "composite_relationships":
        to = args["to"].replace("ref('", "").replace("')", "")
        c = args["columns"]
        return (f"Каждая комбинация ({cols(c)}) есть в {to}{w_ru}",
                f"Every ({cols(c)}) combination exists in {to}{w_en}")
    if test == "from_loaded_file":
        return ("Каждая строка — из файла со статусом loaded в реестре файлов (не из заменённого "
                "и не из карантина)",
                "Every row comes from a file the file registry marks loaded (not a superseded or "
                "quarantined one)")
    if test == "marts_small_cells_suppressed":
        c = cols(args["columns"])
        n = args.get("count_column", "participants")
        return (f"В группах меньше rsoko:min_cell_size ({n}) {c} пусты и is_suppressed = true; "
                f"в остальных is_suppressed = false{w_ru}",
                f"Groups smaller than rsoko:min_cell_size ({n}) show none of {c} and have "
                f"is_suppressed = true; the others have is_suppressed = false{w_en}")
    if test == "marts_level_codes":
        return ("Уровень согласован с кодами: region — без кодов, municipality — только "
                "municipality_code, school — municipality_code и school_code",
                "The level matches the codes: region has none, municipality only "
                "municipality_code, school both municipality_code and school_code")
    return None


def auto_name(test, model, column, args):
    if test == "relationships":
        to = args["to"].replace("ref('", "").replace("')", "")
        return f"{model}__{column}_in_{to}"
    if test == "composite_relationships":
        to = args["to"].replace("ref('", "").replace("')", "")
        return f"{model}__{'_'.join(args['columns'])}_in_{to}"
    if test == "accepted_values":
        return f"{model}__{column}_allowed"
    if test == "accepted_range":
        return f"{model}__{column}_in_range"
    if test == "unique_combination_of_columns":
        return f"{model}__unique_{'_'.join(c.strip('_') for c in args['combination_of_columns'])}"
    if test == "marts_small_cells_suppressed":
        return f"{model}__small_cells_suppressed"
    return None


def find_node(path, model, column, test, args, where):
    hits = []
    for n in TESTS:
        md = n["test_metadata"]
        if n["original_file_path"] != path or md["name"] != test:
            continue
        if n.get("attached_node", "").split(".")[-1] != model:
            continue
        if (n.get("column_name") or None) != (column or None):
            continue
        kw = {k: v for k, v in md["kwargs"].items() if k not in ("model", "column_name")}
        if kw != args:
            continue
        if (n["config"].get("where") or None) != (where or None):
            continue
        hits.append(n)
    assert len(hits) == 1, (path, model, column, test, args, where, len(hits))
    return hits[0]


def wrap(key, text, indent):
    s = json.dumps(text, ensure_ascii=False)
    lines = textwrap.wrap(f"{key}: {s}", width=100 - indent, subsequent_indent="  ",
                          break_long_words=False, break_on_hyphens=False)
    return [" " * indent + line for line in lines]


def items_of(seq_node):
    return seq_node.value if isinstance(seq_node, yaml.SequenceNode) else []


def process(path):
    text = open(path, encoding="utf-8").read()
    lines = text.split("\n")
    root = yaml.compose(text)
    edits = []   # (line index, replace_line: bool, new lines)
    top = dict((k.value, v) for k, v in root.value)
    for key in ("models", "seeds"):
        if key not in top:
            continue
        for m in top[key].value:
            md = dict((k.value, v) for k, v in m.value)
            model = md["name"].value
            groups = [(None, md.get("data_tests"))]
            for c in items_of(md.get("columns")):
                cd = dict((k.value, v) for k, v in c.value)
                groups.append((cd["name"].value, cd.get("data_tests")))
            for column, seq in groups:
                for item in items_of(seq):
                    handle(path, lines, edits, model, column, item)
    for idx, replace, new in sorted(edits, key=lambda e: -e[0]):
        if replace:
            lines[idx:idx + 1] = new
        else:
            lines[idx:idx] = new
    if WRITE and edits:
        open(path, "w", encoding="utf-8").write("\n".join(lines))


def handle(path, lines, edits, model, column, item):
    if isinstance(item, yaml.ScalarNode):
        test, value = item.value, None
    else:
        (k, value), = item.value
        test = k.value
    body = yaml.safe_load(yaml.serialize(value)) if value is not None else {}
    body = body or {}
    if "description" in body:
        return
    args = dict(body.get("arguments") or {})
    for k2, v2 in body.items():
        if k2 not in ("arguments", "config", "name", "description"):
            args[k2] = v2
    where = (body.get("config") or {}).get("where")
    node = find_node(path, model, column, test, args, where)
    key = f"{path}: {node['name']}"
    r = rule(test, model, column, args, where)
    if r is None:
        print("write a description by hand:", key)
        return
    desc = f"{r[0]} / {r[1]}"
    name = None
    if len(node["name"]) > MAX_NAME:
        name = auto_name(test, model, column, args)
        if name is None or len(name) > MAX_NAME:
            print("write a name (and description) by hand:", key)
            return
    print(("written: " if WRITE else "missing: ") + key)
    if isinstance(item, yaml.ScalarNode):
        line = item.start_mark.line
        indent = item.start_mark.column + 2
        new = [lines[line].rstrip() + ":"]
        if name:
            new += [" " * indent + f"name: {name}"]
        new += wrap("description", desc, indent)
        edits.append((line, True, new))
    elif isinstance(value, yaml.MappingNode) and value.flow_style and not value.value:
        line = item.start_mark.line
        indent = item.start_mark.column + 2
        new = [lines[line].replace(": {}", ":")]
        if name:
            new += [" " * indent + f"name: {name}"]
        new += wrap("description", desc, indent)
        edits.append((line, True, new))
    else:
        line = value.start_mark.line
        indent = value.start_mark.column
        new = []
        if name:
            new += [" " * indent + f"name: {name}"]
        new += wrap("description", desc, indent)
        edits.append((line, False, new))


if __name__ == "__main__":
    os.chdir(PROJECT)
    TESTS.extend(_manifest_tests())
    for f in sorted(glob.glob("models/**/*.yml", recursive=True)) + sorted(
            glob.glob("seeds/**/*.yml", recursive=True)):
        process(f)
