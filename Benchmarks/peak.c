/* Measured FMA peak of one core: 12 independent vfmadd chains on zmm and on ymm (fp32; fp64 is half).
   gcc -O3 -funroll-all-loops -mavx512f -mfma Benchmarks/peak.c -o peak && ./peak */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(){
  __m512 a[12]; __m512 b=_mm512_set1_ps(0.9999999f), c=_mm512_set1_ps(1e-7f);
  for(int i=0;i<12;i++)a[i]=_mm512_set1_ps(i);
  long N=200000000; double best=0;
  for(int r=0;r<5;r++){double t0=now();
  for(long n=0;n<N;n++){ for(int i=0;i<12;i++) a[i]=_mm512_fmadd_ps(a[i],b,c);}
  double t=now()-t0; double gf=N*12*16*2/t/1e9; if(gf>best)best=gf;}
  float s=0; for(int i=0;i<12;i++) s+=_mm512_reduce_add_ps(a[i]);
  printf("zmm fp32 peak %.1f GF (%g)\n",best,s);
  __m256 y[12]; __m256 yb=_mm256_set1_ps(0.9999999f), yc=_mm256_set1_ps(1e-7f);
  for(int i=0;i<12;i++)y[i]=_mm256_set1_ps(i); best=0;
  for(int r=0;r<5;r++){double t0=now();
  for(long n=0;n<N;n++){ for(int i=0;i<12;i++) y[i]=_mm256_fmadd_ps(y[i],yb,yc);}
  double t=now()-t0; double gf=N*12*8*2/t/1e9; if(gf>best)best=gf;}
  s=0; for(int i=0;i<12;i++){ float tmp[8]; _mm256_storeu_ps(tmp,y[i]); s+=tmp[0];}
  printf("ymm fp32 peak %.1f GF (%g)\n",best,s);
}
