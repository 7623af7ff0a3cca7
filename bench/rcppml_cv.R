#!/usr/bin/env Rscript
# RcppML 1.0 cross-validation over ranks (issue #15), for bench/cv-peers.ts. Prints ONE JSON line.
# usage: Rscript bench/rcppml_cv.R <file.mtx> <ranks e.g. 2:12> <replicates> <test_fraction> <mask: none|zeros> <maxit> <tol> --lib=DIR
suppressMessages(library(Matrix))
args <- commandArgs(TRUE)
flags <- args[grepl("^--", args)]; args <- args[!grepl("^--", args)]
lib <- sub("^--lib=", "", flags[startsWith(flags, "--lib=")][1])
if (is.na(lib)) suppressMessages(library(RcppML)) else suppressMessages(library(RcppML, lib.loc = lib))
path <- args[1]; r <- as.integer(strsplit(args[2], ":")[[1]]); ranks <- r[1]:r[2]
reps <- as.integer(args[3]); tf <- as.numeric(args[4]); mask <- args[5]; maxit <- as.integer(args[6]); tol <- as.numeric(args[7])
A <- as(as(as(readMM(path), "CsparseMatrix"), "generalMatrix"), "dMatrix")
t0 <- Sys.time()
res <- nmf(A, k = ranks, test_fraction = tf, cv_seed = seq_len(reps), maxit = maxit, tol = tol,
           mask = if (mask == "zeros") "zeros" else NULL, verbose = FALSE)
seconds <- as.numeric(Sys.time()) - as.numeric(t0)
df <- as.data.frame(res)
fits <- lapply(seq_len(nrow(df)), function(q) sprintf('{"rank":%d,"replicate":%d,"trainLoss":%.17g,"testLoss":%.17g,"iterations":%d}',
  df$k[q], as.integer(df$rep[q]) - 1L, df$train_mse[q], df$test_mse[q], as.integer(df$total_iter[q])))
cat(sprintf('{"version":"%s","seconds":%.4f,"fits":[%s]}\n', as.character(packageVersion("RcppML")), seconds, paste(fits, collapse = ",")))
