#!/bin/sh
# A stand-in for the software a site receives.
echo "hello from the far side of the air gap"
