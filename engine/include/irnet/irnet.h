// irnet/irnet.h — the whole public C++ API in one include.
#pragma once

#include "irnet/error.h"
#include "irnet/kernels.h"
#include "irnet/model.h"

#define IRNET_VERSION_STRING "0.1.0"
