#!/usr/bin/env bash
# The man pages of the four programs: installed by `make install`, render
# without warnings (when groff is here: it is not needed to build or run),
# and keep up with the programs: every command and every option their
# --help lists is in the page.
. "$(dirname "$0")/lib.sh"

M=$GRAFT_SRC_DIR/man
# the page's text with roff's escapes for hyphens, fonts and joins undone
page_text() { sed 's/\\-/-/g; s/\\f[BIRP]//g; s/\\c//g; s/\\e/\\/g' "$M/$1.1"; }
# long options named in a --help text
long_options() { grep -oE -- '--[a-z][a-z-]*[a-z]' | sort -u; }

step "make install puts the four pages in man1"
make -s -C "$B" install-man DESTDIR="$T/inst" >/dev/null || fail "make install-man failed"
for p in graftd graft graft-admin graft-shell; do
	[ -n "$(find "$T/inst" -path "*/man1/$p.1")" ] || fail "$p.1 not installed: $(find "$T/inst" -type f)"
done

step "the pages render without warnings"
if command -v groff >/dev/null; then
	for p in graftd graft graft-admin graft-shell; do
		out=$(groff -man -Tutf8 -ww -z "$M/$p.1" 2>&1)
		[ -z "$out" ] || fail "$p.1: $out"
		text=$(groff -man -Tutf8 -P -cbou "$M/$p.1" 2>&1)
		expect_in "$text" "SYNOPSIS" "$p.1 renders"
	done
else
	echo "groff is not installed: rendering is not checked"
fi

step "every option of every program's --help is in its page"
for p in graftd graft graft-shell; do
	text=$(page_text "$p")
	for o in $("$B/$p" --help | long_options); do
		grep -qF -- "$o" <<<"$text" || fail "$p.1 lacks $o (in $p --help)"
	done
done

step "every graft command, every graft-admin command and their options are in the pages"
text=$(page_text graft)
for c in $("$B/graft" --help | sed -n 's/^  \([a-z]\+\) .*/\1/p'); do
	grep -qE "^\.B $c\$" <<<"$text" || fail "graft.1 lacks the command $c"
done
text=$(page_text graft-admin)
"$B/graft-admin" --help | sed -n 's/^  \([a-z][a-z -]*[a-z]\)  .*/\1/p' >"$T/commands"
[ "$(wc -l <"$T/commands")" -ge 10 ] || fail "graft-admin --help lists too few commands: $(cat "$T/commands")"
while read -r c; do
	[ "$c" = version ] && continue
	grep -qF -- "$c" <<<"$text" || fail "graft-admin.1 lacks the command $c"
	for o in $("$B/graft-admin" $c --help | long_options); do
		[ "$o" = --config ] || [ "$o" = --help ] && continue
		grep -qF -- "$o" <<<"$text" || fail "graft-admin.1 lacks $o of $c"
	done
done <"$T/commands"
echo "PASS"
