#!/usr/bin/env bash
echo "platform test: not yet written" >&2; exit 1
