#!/bin/sh
# Frames the content of the file $1 between two lines of dashes.
echo ----
cat "$1"
echo ----
