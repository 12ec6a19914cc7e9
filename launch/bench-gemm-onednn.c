// Would oneDNN's fp32 sgemm (already linked for bf16) be the lever for the HiFT fine-tuning step?
// (docs/BENCHMARKS.md, "stop 21"). Times cblas_sgemm of OpenBLAS and dnnl_sgemm of oneDNN 2.6 on
// the bench tracker's product shapes (1536-row projections and MLP products, their gradient forms,
// attention's 192 x 192 x 64, the head's 128-px conv as im2col), one thread, best of 3 x ~2 GFLOP.
//   gcc -O2 launch/bench-gemm-onednn.c -o /tmp/gemm-onednn -lopenblas -ldnnl
//   OPENBLAS_CORETYPE=SKYLAKEX OMP_NUM_THREADS=1 /tmp/gemm-onednn
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <cblas.h>
#include <dnnl.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
typedef struct {int M,N,K; char ta,tb; const char*name;} S;
int main(){
  openblas_set_num_threads(1);
  S shapes[]={{1536,576,192,'N','T',"qkv fwd"},{1536,192,192,'N','T',"proj fwd"},{1536,768,192,'N','T',"fc1 fwd"},{1536,192,768,'N','T',"fc2 fwd"},
   {1536,192,576,'N','N',"qkv dX"},{1536,192,768,'N','N',"fc1 dX"},{576,192,1536,'T','N',"qkv dW"},{768,192,1536,'T','N',"fc1 dW"},{192,768,1536,'T','N',"fc2 dW"},
   {192,192,64,'N','T',"attn QK"},{16384,8,72,'N','T',"conv128"}};
  int ns=sizeof(shapes)/sizeof(S);
  float*A=malloc(4*20000000),*B=malloc(4*20000000),*C=malloc(4*20000000);
  for(int i=0;i<20000000;i++){A[i]=(i%7)*0.1f;B[i]=(i%5)*0.1f;C[i]=0;}
  double tot[2]={0,0};
  for(int s=0;s<ns;s++){S x=shapes[s];
    int lda = x.ta=='N'? x.K : x.M; int ldb = x.tb=='N'? x.N : x.K;
    int reps= (int)(2e9/(2.0*x.M*x.N*x.K)); if(reps<3)reps=3;
    double best[2]={1e9,1e9};
    for(int r=0;r<3;r++){
      double t=now(); for(int i=0;i<reps;i++) cblas_sgemm(CblasRowMajor,x.ta=='N'?CblasNoTrans:CblasTrans,x.tb=='N'?CblasNoTrans:CblasTrans,x.M,x.N,x.K,1,A,lda,B,ldb,0,C,x.N); t=(now()-t)/reps; if(t<best[0])best[0]=t;
      t=now(); for(int i=0;i<reps;i++) dnnl_sgemm(x.ta,x.tb,x.M,x.N,x.K,1,A,lda,B,ldb,0,C,x.N); t=(now()-t)/reps; if(t<best[1])best[1]=t;
    }
    double fl=2.0*x.M*x.N*x.K;
    printf("%-9s %5d %4d %4d  openblas %6.1f GF/s  dnnl %6.1f GF/s\n",x.name,x.M,x.N,x.K,fl/best[0]/1e9,fl/best[1]/1e9);
  }
}
