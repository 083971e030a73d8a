//! The checker child: health checkers and IPVS programming.
