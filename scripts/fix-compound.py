import re, sys
pat = re.compile(r'(\b[A-Za-z_]\w*)\[([^\[\]]+(?:\[[^\[\]]*\][^\[\]]*)*)\] ([+\-*])= ')
for f in sys.argv[1:]:
    s = open(f).read()
    t = pat.sub(lambda m: f"{m.group(1)}[{m.group(2)}] = {m.group(1)}[{m.group(2)}]! {m.group(3)} ", s)
    if s != t:
        open(f, 'w').write(t); print('fixed', f)
