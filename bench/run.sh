# Sourced by the bench/* scripts. reelforge_table NAME TABLE writes a Markdown table into
# BENCHMARKS.md between `<!-- NAME:start/end -->` markers; reelforge_bench NAME runs
# `cargo bench --bench NAME` and writes the table it prints.

reelforge_table() {
  python3 - "$1" "$2" <<'PY'
import re, sys, datetime, os
name, table = sys.argv[1], sys.argv[2]
path = "BENCHMARKS.md"
text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
stamp = f"Measured {datetime.date.today()} on {os.cpu_count()} cores with `bench/{name}`.\n\n"
block = f"<!-- {name}:start -->\n{stamp}{table}\n<!-- {name}:end -->"
pattern = re.compile(rf"<!-- {name}:start -->.*?<!-- {name}:end -->", re.S)
text = pattern.sub(lambda _: block, text) if pattern.search(text) else text + "\n" + block + "\n"
open(path, "w").write(text)
PY
}

reelforge_bench() {
  local table
  table=$(cargo bench --locked --bench "$1" 2>/dev/null | grep '^|')
  echo "$table"
  reelforge_table "$1" "$table"
}
