# shellcheck shell=bash
# Sourced by the end-to-end scripts that create CRDs.

# `kubectl wait --for=condition=Established` fails at once, instead of waiting, when it reads a CRD
# whose status has no conditions yet (just after it is created); poll the condition instead.
wait_crd_established() { # kubectl-function timeout-seconds crd...
  local kubectl_fn=$1 timeout=$2 crd; shift 2
  local deadline=$((SECONDS + timeout))
  for crd in "$@"; do
    until [ "$("$kubectl_fn" get crd "$crd" -o jsonpath='{.status.conditions[?(@.type=="Established")].status}' 2>/dev/null)" = True ]; do
      if [ $SECONDS -ge $deadline ]; then
        echo "crd $crd is not Established after ${timeout}s; its status: $("$kubectl_fn" get crd "$crd" -o jsonpath='{.status}' 2>&1)" >&2
        return 1
      fi
      sleep 0.2
    done
  done
}
