/*
 * SOA serial policies; see serial.h.
 */
#include "signer/serial.h"


bool signer__serial_gt(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(a - b) > 0;
}

int signer__serial_next(enum tdm_serial_policy pol, uint32_t input, bool have_prev,
			uint32_t prev, int64_t now, uint32_t *out, struct tdm_err *err)
{
	uint32_t s;
	switch (pol) {
	case TDM_SERIAL_KEEP:
		if (have_prev && !signer__serial_gt(input, prev))
			return tdm_err_fail(err, TDM_ESERIAL,
					    "serial policy keep: input serial %u is not greater than the previous output's %u",
					    (unsigned)input, (unsigned)prev);
		*out = input;
		return 0;
	case TDM_SERIAL_COUNTER:
		s = input;
		break;
	case TDM_SERIAL_UNIXTIME:
		s = (uint32_t)now;
		break;
	case TDM_SERIAL_DATECOUNTER: {
		int64_t days = now / 86400, y;
		unsigned m, d;
		{
			/* Hinnant's civil_from_days, inlined to keep codec.h small. */
			int64_t z = days + 719468;
			int64_t era = (z >= 0 ? z : z - 146096) / 146097;
			unsigned doe = (unsigned)(z - era * 146097);
			unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
			unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
			unsigned mp = (5 * doy + 2) / 153;
			y = (int64_t)yoe + era * 400;
			d = doy - (153 * mp + 2) / 5 + 1;
			m = mp < 10 ? mp + 3 : mp - 9;
			y += m <= 2;
		}
		s = (uint32_t)((y * 10000 + m * 100 + d) * 100);
		break;
	}
	default:
		return tdm_err_fail(err, TDM_EINVAL, "unknown serial policy %d", (int)pol);
	}
	/* Never below the input's serial: secondaries may have seen it. */
	if (signer__serial_gt(input, s))
		s = input;
	if (have_prev && !signer__serial_gt(s, prev))
		s = prev + 1;
	*out = s;
	return 0;
}
