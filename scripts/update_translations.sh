#!/usr/bin/env bash
# Update the Simplified Chinese translation of the desktop UI (ioreview/ui/).
#
#   scripts/update_translations.sh            # from the repository root (any cwd works)
#
# 1. pyside6-lupdate extracts every self.tr(...) / QCoreApplication.translate("Ctx", ...)
#    string from all Python files under ioreview/ui/ (listed explicitly: lupdate does not
#    scan .py files of a directory by default) and merges them into
#    ioreview/ui/translations/ioreview_zh_CN.ts. New or changed strings appear there as
#    <translation type="unfinished">; strings removed from the code are dropped (-no-obsolete).
# 2. pyside6-lrelease compiles the .ts into ioreview_zh_CN.qm, the file that
#    ioreview.ui.app.install_translators loads for `--lang zh_CN` or a zh_CN system locale.
#
# After adding or changing UI strings: run this script, translate the unfinished entries
# (pyside6-linguist ioreview/ui/translations/ioreview_zh_CN.ts, or edit the XML), run it
# again, and commit both the .ts and the .qm. tests/test_translations.py fails while any
# string of the code is untranslated or the .qm is older than the .ts.
#
# Only literal strings can be extracted: tr(f"...") or tr(variable) never reach the .ts, and
# the context of a call is the enclosing class (module-level helpers land in an empty
# context that does not match the context they translate with at run time).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${VENV_BIN:-.venv/bin}
LUPDATE=${LUPDATE:-$BIN/pyside6-lupdate}
LRELEASE=${LRELEASE:-$BIN/pyside6-lrelease}
TS=ioreview/ui/translations/ioreview_zh_CN.ts
QM=ioreview/ui/translations/ioreview_zh_CN.qm

mkdir -p "$(dirname "$TS")"
mapfile -t SOURCES < <(find ioreview/ui -name '*.py' -not -path '*/__pycache__/*' | LC_ALL=C sort)

"$LUPDATE" -no-obsolete -locations relative -source-language en -target-language zh_CN \
  "${SOURCES[@]}" -ts "$TS"
"$LRELEASE" "$TS" -qm "$QM"

unfinished=$(grep -c 'type="unfinished"' "$TS" || true)
if [ "$unfinished" != 0 ]; then
  echo "update_translations: $unfinished message(s) in $TS still need a translation" >&2
fi
