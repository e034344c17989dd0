# The base of the CUDA trainer image: CUDA 11.6 and cuDNN 8 (what ND4J 1.0.0-M2.1's nd4j-cuda-11.6 links against) and a
# Java 17 runtime. Build it once, then the CUDA trainer image with Jib:
#   docker build -t shears/cuda-jre-base:11.6 -f deploy/docker/cuda-base.Dockerfile deploy/docker
#   mvn -B -Pimages,cuda -Dcuda.image -pl deploy -am package
FROM nvidia/cuda:11.6.2-cudnn8-runtime-ubuntu20.04
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless \
 && rm -rf /var/lib/apt/lists/*
