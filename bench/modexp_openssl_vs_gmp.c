// OpenSSL BN_mod_exp_mont vs GMP mpz_powm for Paillier-sized operands (one thread).
// gcc -O2 bench/modexp_openssl_vs_gmp.c -o /tmp/modexp -lcrypto -lgmp && taskset -c 0 /tmp/modexp
// (needs libssl-dev and libgmp-dev; evaluation only, not used by the crate)
#include <openssl/bn.h>
#include <gmp.h>
#include <stdio.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static void tompz(mpz_t z, const BIGNUM*b){char*s=BN_bn2hex(b); mpz_set_str(z,s,16); OPENSSL_free(s);}
int main(){
  BN_CTX*ctx=BN_CTX_new();
  for (int bits=1024; bits<=2048; bits*=2){
  BIGNUM *p=BN_new(),*q=BN_new(),*n=BN_new(),*n2=BN_new(),*a=BN_new(),*b=BN_new(),*r=BN_new();
  BN_generate_prime_ex(p,bits/2,0,NULL,NULL,NULL); BN_generate_prime_ex(q,bits/2,0,NULL,NULL,NULL);
  BN_mul(n,p,q,ctx); BN_sqr(n2,n,ctx); BN_rand_range(a,n2); BN_rand_range(b,n2);
  int N = bits==1024? 1500: 200; double t=now();
  for(int i=0;i<N;i++) BN_mod_exp_mont(r,a,n,n2,ctx,NULL);
  printf("%d: openssl r^n mod n2: %.0f/s\n", bits, N/(now()-t));
  BN_MONT_CTX*mc=BN_MONT_CTX_new(); BN_MONT_CTX_set(mc,n2,ctx);
  t=now();
  for(int i=0;i<N;i++) BN_mod_exp_mont(r,a,n,n2,ctx,mc);
  printf("%d: openssl r^n mod n2 (cached mont ctx): %.0f/s\n", bits, N/(now()-t));
  mpz_t A,B,N2,NN,R; mpz_inits(A,B,N2,NN,R,NULL); tompz(A,a); tompz(B,b); tompz(N2,n2); tompz(NN,n);
  t=now();
  for(int i=0;i<N;i++) mpz_powm(R,A,NN,N2);
  printf("%d: gmp r^n mod n2: %.0f/s\n", bits, N/(now()-t));
  int M=400000;
  BIGNUM*am=BN_new(),*bm=BN_new(); BN_to_montgomery(am,a,mc,ctx); BN_to_montgomery(bm,b,mc,ctx);
  t=now(); for(int i=0;i<M;i++) BN_mod_mul_montgomery(r,am,bm,mc,ctx);
  printf("%d: openssl mont mul: %.0f/s\n", bits, M/(now()-t));
  t=now(); for(int i=0;i<M;i++) BN_mod_mul(r,a,b,n2,ctx);
  printf("%d: openssl BN_mod_mul: %.0f/s\n", bits, M/(now()-t));
  t=now(); for(int i=0;i<M;i++){ mpz_mul(R,A,B); mpz_tdiv_r(R,R,N2);}
  printf("%d: gmp mul+tdiv_r: %.0f/s\n", bits, M/(now()-t));
  // small exponent (53-bit)
  BIGNUM*e=BN_new(); BN_rand(e,53,0,0); mpz_t E; mpz_init(E); tompz(E,e);
  t=now(); for(int i=0;i<20000;i++) BN_mod_exp_mont(r,a,e,n2,ctx,mc);
  printf("%d: openssl 53-bit exp: %.0f/s\n", bits, 20000/(now()-t));
  t=now(); for(int i=0;i<20000;i++) mpz_powm(R,A,E,N2);
  printf("%d: gmp 53-bit exp: %.0f/s\n", bits, 20000/(now()-t));
  }
  return 0;
}
