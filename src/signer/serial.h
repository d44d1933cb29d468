/*
 * SOA serial policies of the signconf (as OpenDNSSEC's signer applies
 * them), in RFC 1982 serial number arithmetic.
 */
#ifndef SIGNER_SERIAL_H
#define SIGNER_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/conf.h"

/** RFC 1982 §3.2: is a greater than b? */
bool signer__serial_gt(uint32_t a, uint32_t b);

/**
 * The output serial.  counter: the input serial, or prev + 1 if that is not
 * greater than prev; datecounter: YYYYMMDD00 of `now` (UTC), or prev + 1;
 * unixtime: `now`, or prev + 1 (datecounter and unixtime never go below
 * the input serial either); keep: the input serial, refused
 * (TDM_ESERIAL, err says why) when it is not greater than prev.
 * @param have_prev false on the first signing (no previous output).
 */
int signer__serial_next(enum tdm_serial_policy pol, uint32_t input, bool have_prev,
			uint32_t prev, int64_t now, uint32_t *out, struct tdm_err *err);

#endif
